use super::*;

fn col(t: &str, c: Category) -> ViewColumn {
    ViewColumn::of("c", t, c)
}

#[test]
fn unit_kinds_from_postgresql_types() {
    let k = |t: &str, c| kind_of(&col(t, c), false);
    assert_eq!(k("smallint", Category::Integer), (Kind::Int16, false));
    assert_eq!(k("bigint", Category::Integer), (Kind::Int64, false));
    assert_eq!(k("my_int_domain", Category::Integer), (Kind::Int64, false));
    assert_eq!(k("real", Category::Float), (Kind::Float32, false));
    assert_eq!(k("numeric(10,2)", Category::Numeric), (Kind::Text, false));
    assert_eq!(
        k("character varying(255)", Category::Text),
        (Kind::Text, false)
    );
    assert_eq!(
        k("timestamp(3) with time zone", Category::TimestampTz),
        (Kind::Timestamp { utc: true }, false)
    );
    assert_eq!(k("jsonb", Category::Other), (Kind::Json, false));
    assert_eq!(k("uuid", Category::Other), (Kind::Uuid, false));
    assert_eq!(k("interval", Category::Other), (Kind::Text, false));
    assert_eq!(k("integer[]", Category::Other), (Kind::Int32, true));
    assert_eq!(
        k("character varying(20)[]", Category::Other),
        (Kind::Text, true)
    );
    assert_eq!(
        k("geometry(Point,2154)", Category::Geometry),
        (Kind::Text, false)
    );
    assert_eq!(
        kind_of(&col("geometry", Category::Geometry), true),
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
