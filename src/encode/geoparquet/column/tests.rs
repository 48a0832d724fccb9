use super::*;

fn col(ty: ColumnType, array: bool) -> ViewColumn {
    let mut c = ViewColumn::of("c", "", ty);
    c.array = array;
    c
}

#[test]
fn unit_kinds_from_postgresql_types() {
    let k = |ty, array| kind_of(&col(ty, array), false);
    assert_eq!(k(ColumnType::Int2, false), (Kind::Int16, false));
    assert_eq!(k(ColumnType::Int8, false), (Kind::Int64, false));
    assert_eq!(k(ColumnType::Float4, false), (Kind::Float32, false));
    assert_eq!(k(ColumnType::Numeric, false), (Kind::Text, false));
    assert_eq!(k(ColumnType::Text, false), (Kind::Text, false));
    assert_eq!(
        k(ColumnType::TimestampTz, false),
        (Kind::Timestamp { utc: true }, false)
    );
    assert_eq!(k(ColumnType::Json, false), (Kind::Text, false));
    assert_eq!(k(ColumnType::Uuid, false), (Kind::Text, false));
    assert_eq!(k(ColumnType::Time, false), (Kind::Text, false));
    assert_eq!(k(ColumnType::Uuid, true), (Kind::Text, true));
    assert_eq!(k(ColumnType::Interval, false), (Kind::Text, false));
    assert_eq!(k(ColumnType::TimeTz, false), (Kind::Text, false));
    assert_eq!(k(ColumnType::Int4, true), (Kind::Int32, true));
    assert_eq!(k(ColumnType::Text, true), (Kind::Text, true));
    // GDAL ignores lists of dates and timestamps: their ISO 8601 texts instead
    assert_eq!(k(ColumnType::Date, false), (Kind::Date, false));
    assert_eq!(k(ColumnType::Date, true), (Kind::Text, true));
    assert_eq!(k(ColumnType::Timestamp, true), (Kind::Text, true));
    assert_eq!(k(ColumnType::TimestampTz, true), (Kind::Text, true));
    // a geometry that is not the feature's is WKT
    assert_eq!(k(ColumnType::Geometry, false), (Kind::Text, false));
    assert_eq!(
        kind_of(&col(ColumnType::Geometry, false), true),
        (Kind::Wkb, false)
    );
}

#[test]
fn unit_values_and_levels() {
    let mut c = Column::new(Kind::Date, false);
    c.push(&Value::Date(0)).unwrap();
    c.push(&Value::Null).unwrap();
    c.push(&Value::Date(i32::MAX)).unwrap(); // infinity: NULL
    assert_eq!(c.def, [1, 0, 0]);
    assert!(matches!(&c.values, Values::I32(v) if v == &[10_957]));

    let mut t = Column::new(Kind::Timestamp { utc: true }, false);
    t.push(&Value::TimestampTz(3_600_000_000, 3600)).unwrap();
    assert!(matches!(&t.values, Values::I64(v) if v == &[EPOCH_MICROS]));

    let mut l = Column::new(Kind::Int32, true);
    l.push(&Value::Array(vec![
        Value::Int(1),
        Value::Null,
        Value::Int(3),
    ]))
    .unwrap();
    l.push(&Value::Array(vec![])).unwrap();
    l.push(&Value::Null).unwrap();
    assert_eq!(l.def, [3, 2, 3, 1, 0]);
    assert_eq!(l.rep, [0, 1, 1, 0, 0]);
    assert!(l
        .push(&Value::Array(vec![Value::Array(vec![Value::Int(1)])]))
        .unwrap_err()
        .contains("multidimensional"));

    let mut s = Column::new(Kind::Text, false);
    s.push(&Value::Numeric("12.500")).unwrap();
    s.push(&Value::Float8(0.5)).unwrap();
    assert!(matches!(&s.values, Values::Bytes(a) if a.bytes == b"12.5000.5" && a.ends == [6, 9]));
    // chunks of lists end where a row does, and count the values they define
    let def = vec![3i16; 20_000];
    let rep: Vec<i16> = (0..20_000).map(|i| i16::from(i % 3 != 0)).collect();
    let mut seen = Vec::new();
    let n = chunks(&def, &rep, true, 3, |values, d, r| {
        assert_eq!(r.unwrap()[0], 0);
        assert_eq!(values.len(), d.len());
        seen.push(values);
        Ok(0)
    })
    .unwrap();
    assert_eq!(n, 20_000);
    assert!(seen.len() > 2 && seen.windows(2).all(|w| w[0].end == w[1].start));
    let mut bad = Column::new(Kind::Int16, false);
    assert!(bad.push(&Value::Text("x")).is_err());
}
