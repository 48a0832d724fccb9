"""Reads a TSV export as any tab-separated reader does (a line is a row, a tab a field boundary,
no quoting), undoes PostgreSQL's text-format escapes, and compares it with the CSV export of the
same export read by Python's csv module. Prints "ok" or the first difference.

    check_tsv.py export.tsv export.csv ';'
"""
import csv
import sys

ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def unescape(field):
    if field == "\\N":
        return ""  # NULL: an empty field in the CSV
    out, i = [], 0
    while i < len(field):
        c = field[i]
        if c == "\\" and i + 1 < len(field) and field[i + 1] in ESCAPES:
            out.append(ESCAPES[field[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main(tsv_path, csv_path, sep):
    with open(tsv_path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines[-1] != "":
        return "the TSV does not end with a line feed"
    tsv_rows = [[unescape(x) for x in line.split("\t")] for line in lines[:-1]]
    with open(csv_path, encoding="utf-8", newline="") as f:
        csv_rows = list(csv.reader(f, delimiter=sep))
    width = len(tsv_rows[0])
    for n, row in enumerate(tsv_rows):
        if len(row) != width:
            return f"line {n + 1} has {len(row)} fields, the header {width}"
        if "\r" in lines[n]:
            return f"line {n + 1} holds a raw CR"
    if len(tsv_rows) != len(csv_rows):
        return f"{len(tsv_rows)} TSV lines, {len(csv_rows)} CSV records"
    for n, (t, c) in enumerate(zip(tsv_rows, csv_rows)):
        if t != c:
            diff = [(i, a, b) for i, (a, b) in enumerate(zip(t, c)) if a != b][:3]
            return f"line {n + 1} differs: {diff}"
    return "ok"


if __name__ == "__main__":
    print(main(sys.argv[1], sys.argv[2], sys.argv[3]))
