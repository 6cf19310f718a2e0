//! How records are written as text: Flink's `toString` style.

/// Formats a record as Flink prints it: numbers and strings as they are, tuples as
/// `(a,b)`, lists as `[a, b]`, `None` as `null`. Implement it for your own types
/// to `print` them or write them as text.
pub trait Printable {
    fn write_text(&self, out: &mut String);

    fn to_text(&self) -> String {
        let mut s = String::new();
        self.write_text(&mut s);
        s
    }
}

macro_rules! printable_display {
    ($($t:ty),*) => {
        $(impl Printable for $t {
            #[inline]
            fn write_text(&self, out: &mut String) {
                use std::fmt::Write;
                let _ = write!(out, "{}", self);
            }
        })*
    };
}
printable_display!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char);

impl Printable for String {
    #[inline]
    fn write_text(&self, out: &mut String) {
        out.push_str(self);
    }
}
impl Printable for &str {
    #[inline]
    fn write_text(&self, out: &mut String) {
        out.push_str(self);
    }
}
impl Printable for () {
    fn write_text(&self, out: &mut String) {
        out.push_str("()");
    }
}
impl<T: Printable> Printable for Option<T> {
    fn write_text(&self, out: &mut String) {
        match self {
            Some(v) => v.write_text(out),
            None => out.push_str("null"),
        }
    }
}
impl<T: Printable> Printable for Vec<T> {
    fn write_text(&self, out: &mut String) {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            v.write_text(out);
        }
        out.push(']');
    }
}

/// A record written as one CSV line: tuples as their fields separated by `,`,
/// single values as themselves. Fields are written as they print (no quoting), as
/// Flink's `writeAsCsv` does.
pub trait CsvRecord {
    fn write_csv(&self, out: &mut String);
}

macro_rules! csv_single {
    ($($t:ty),*) => {
        $(impl CsvRecord for $t {
            #[inline]
            fn write_csv(&self, out: &mut String) {
                self.write_text(out);
            }
        })*
    };
}
csv_single!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char, String);

macro_rules! tuple_text {
    ($($name:ident),+) => {
        impl<$($name: Printable),+> Printable for ($($name,)+) {
            #[allow(non_snake_case)]
            fn write_text(&self, out: &mut String) {
                let ($($name,)+) = self;
                out.push('(');
                let mut first = true;
                $(
                    if !first { out.push(','); }
                    first = false;
                    $name.write_text(out);
                )+
                let _ = first;
                out.push(')');
            }
        }
        impl<$($name: Printable),+> CsvRecord for ($($name,)+) {
            #[allow(non_snake_case)]
            fn write_csv(&self, out: &mut String) {
                let ($($name,)+) = self;
                let mut first = true;
                $(
                    if !first { out.push(','); }
                    first = false;
                    $name.write_text(out);
                )+
                let _ = first;
            }
        }
    };
}
tuple_text!(A);
tuple_text!(A, B);
tuple_text!(A, B, C);
tuple_text!(A, B, C, D);
tuple_text!(A, B, C, D, E);
tuple_text!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_style_text() {
        assert_eq!(("hello".to_string(), 3i64).to_text(), "(hello,3)");
        assert_eq!(vec![1, 2].to_text(), "[1, 2]");
        assert_eq!(None::<i32>.to_text(), "null");
        let mut s = String::new();
        ("a".to_string(), 1i64, 2.5f64).write_csv(&mut s);
        assert_eq!(s, "a,1,2.5");
    }
}
