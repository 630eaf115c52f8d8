//! Exact decimal numbers: `1 == 1.0 == "1"`, and `0.1 + 0.2` style drift never appears because
//! values are kept as decimal digits, the way Salesforce currency fields and monday number
//! columns show them.

use std::fmt;

use crate::error::{Code, EvalError};

/// Most significant digits a [`Number`] keeps (Salesforce allows 18 digits of precision).
const MAX_DIGITS: u32 = 36;

/// An exact decimal number: `mantissa × 10^-scale`, normalised so that equal numbers have equal
/// representations (no trailing zeros after the point, zero has scale 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number {
    mantissa: i128,
    scale: u32,
}

impl Number {
    /// Zero.
    pub const ZERO: Number = Number {
        mantissa: 0,
        scale: 0,
    };

    fn normalised(mut mantissa: i128, mut scale: u32) -> Number {
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        if mantissa == 0 {
            scale = 0;
        }
        Number { mantissa, scale }
    }

    /// An integer.
    pub fn from_i64(n: i64) -> Number {
        Number {
            mantissa: i128::from(n),
            scale: 0,
        }
    }

    /// Reads decimal text: `42`, `-3.50`, `+1e3`, `.5`. Surrounding whitespace is allowed.
    ///
    /// ```
    /// use crmmap_engine::value::Number;
    /// assert_eq!(Number::parse("1.50").unwrap(), Number::parse("1.5").unwrap());
    /// assert_eq!(Number::parse("2e3").unwrap().to_string(), "2000");
    /// assert!(Number::parse("12abc").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Number, EvalError> {
        let bad = || {
            EvalError::new(
                Code::NotANumber,
                format!("cannot read `{text}` as a number"),
            )
        };
        let s = text.trim();
        let (negative, s) = match (s.strip_prefix('-'), s.strip_prefix('+')) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            (None, None) => (false, s),
        };
        let (body, exponent) = match s.split_once(['e', 'E']) {
            Some((body, e)) => (body, e.parse::<i32>().map_err(|_| bad())?),
            None => (s, 0),
        };
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, f),
            None => (body, ""),
        };
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let digits = format!("{int}{frac}");
        let digits = digits.trim_start_matches('0');
        if digits.is_empty() {
            // Zero, whatever its exponent.
            return Ok(Number::ZERO);
        }
        // Trailing zeros are not significant: `1.7e38` written out in full keeps 17 digits.
        let significant = digits.trim_end_matches('0');
        let trailing = digits.len() - significant.len();
        if significant.len() > MAX_DIGITS as usize {
            return Err(EvalError::new(
                Code::NumberOutOfRange,
                format!("`{text}` has more digits than a number can hold exactly"),
            ));
        }
        let out_of_range = || {
            EvalError::new(
                Code::NumberOutOfRange,
                format!("`{text}` is out of the supported range"),
            )
        };
        let mut mantissa: i128 = significant.parse().map_err(|_| bad())?;
        let scale = i64::try_from(frac.len()).map_err(|_| out_of_range())?
            - i64::from(exponent)
            - i64::try_from(trailing).map_err(|_| out_of_range())?;
        let scale = if scale < 0 {
            // A positive exponent past the fraction: multiply, refusing what i128 cannot hold.
            let shift = u32::try_from(scale.unsigned_abs()).map_err(|_| out_of_range())?;
            mantissa = 10i128
                .checked_pow(shift)
                .and_then(|m| mantissa.checked_mul(m))
                .ok_or_else(out_of_range)?;
            0
        } else {
            u32::try_from(scale).map_err(|_| out_of_range())?
        };
        if scale > MAX_DIGITS * 2 {
            return Err(out_of_range());
        }
        if negative {
            mantissa = -mantissa;
        }
        Ok(Number::normalised(mantissa, scale))
    }

    /// Converts a float by its shortest decimal representation (`0.1` stays `0.1`).
    pub fn from_f64(f: f64) -> Result<Number, EvalError> {
        if !f.is_finite() {
            return Err(EvalError::new(
                Code::NumberOutOfRange,
                format!("`{f}` is not a finite number"),
            ));
        }
        // Display of f64 is the shortest text that reads back as the same float, never exponential.
        Number::parse(&f.to_string())
    }

    /// Reads a JSON number exactly (integers stay integers, floats by their shortest text).
    pub fn from_json(n: &serde_json::Number) -> Result<Number, EvalError> {
        if let Some(i) = n.as_i64() {
            return Ok(Number::from_i64(i));
        }
        if let Some(u) = n.as_u64() {
            return Ok(Number::normalised(i128::from(u), 0));
        }
        Number::parse(&n.to_string())
    }

    /// The number as JSON: an integer when it has no fraction and fits, else a float.
    pub fn to_json(self) -> serde_json::Value {
        if self.scale == 0
            && let Ok(i) = i64::try_from(self.mantissa)
        {
            return serde_json::Value::from(i);
        }
        serde_json::Number::from_f64(self.to_f64())
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    }

    /// The nearest float.
    pub fn to_f64(self) -> f64 {
        // The decimal text reads back as the nearest float.
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// Rounds half away from zero to `places` decimal places.
    ///
    /// ```
    /// use crmmap_engine::value::Number;
    /// let n = Number::parse("2.345").unwrap();
    /// assert_eq!(n.round(2).to_string(), "2.35");
    /// assert_eq!(Number::parse("-2.5").unwrap().round(0).to_string(), "-3");
    /// ```
    pub fn round(self, places: u32) -> Number {
        if self.scale <= places {
            return self;
        }
        let drop = self.scale - places;
        let Some(div) = 10i128.checked_pow(drop) else {
            return Number::ZERO;
        };
        let q = self.mantissa / div;
        let r = self.mantissa % div;
        // |r| < div ≤ 10^38, so twice it fits a u128; |q| < |mantissa|, so q ± 1 fits.
        let q = if r.unsigned_abs() * 2 >= div.unsigned_abs() {
            q + self.mantissa.signum()
        } else {
            q
        };
        Number::normalised(q, places)
    }

    /// Whether the number is zero.
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// Orders two numbers by value.
    pub fn cmp_value(self, other: Number) -> std::cmp::Ordering {
        // Bring both to the larger scale; fall back to floats if that overflows.
        let scale = self.scale.max(other.scale);
        let widen = |n: Number| {
            10i128
                .checked_pow(scale - n.scale)
                .and_then(|m| n.mantissa.checked_mul(m))
        };
        match (widen(self), widen(other)) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if digits.len() > scale {
            let (i, d) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{i}.{d}")
        } else {
            write!(f, "{sign}0.{}{digits}", "0".repeat(scale - digits.len()))
        }
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn equal_numbers_have_one_representation() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("1"), Number::from_f64(1.0).unwrap());
        assert_eq!(n("0.10"), Number::from_f64(0.1).unwrap());
        assert_eq!(n("-0"), Number::ZERO);
        assert_eq!(n("1e2"), n("100"));
        assert_eq!(n("1.5E-1"), n("0.15"));
        assert_ne!(n("1.01"), n("1.1"));
    }

    #[test]
    fn a_large_float_reads_back_from_its_stored_form() {
        // 1.7014118346046923e38 written out has 39 digits, 22 of them trailing zeros.
        let big = Number::from_f64(1.7014118346046923e38).unwrap();
        assert_eq!(big, n("17014118346046923e22"));
        let stored = big.to_json();
        let back = serde_json::from_value::<serde_json::Number>(stored).unwrap();
        assert_eq!(Number::from_json(&back).unwrap(), big);
        assert_eq!(n("1.2300e5").to_string(), "123000");
    }

    #[test]
    fn display_is_plain_decimal() {
        assert_eq!(n("0.05").to_string(), "0.05");
        assert_eq!(n("-12.500").to_string(), "-12.5");
        assert_eq!(n("1e21").to_string(), "1000000000000000000000");
        assert_eq!(n(".5").to_string(), "0.5");
    }

    #[test]
    fn rejects_non_numbers() {
        for bad in ["", "abc", "1.2.3", "--1", "1e", "."] {
            let e = Number::parse(bad).unwrap_err();
            assert_eq!(e.code, Code::NotANumber, "{bad}");
        }
        assert_eq!(
            Number::from_f64(f64::NAN).unwrap_err().code,
            Code::NumberOutOfRange
        );
    }

    #[test]
    fn huge_exponents_and_odd_text_are_errors_not_stalls() {
        // `0e999999999` once multiplied zero by ten a billion times.
        assert_eq!(n("0e999999999"), Number::ZERO);
        assert_eq!(n("-0.000e-2147483648"), Number::ZERO);
        for big in ["1e999999999", "1e39", "1e-999999999", "-9e2147483647"] {
            assert_eq!(
                Number::parse(big).unwrap_err().code,
                Code::NumberOutOfRange,
                "{big}"
            );
        }
        for bad in ["1e9999999999", "é1", "1é", "1eé", "-", "+", "1e+", "١"] {
            assert_eq!(
                Number::parse(bad).unwrap_err().code,
                Code::NotANumber,
                "{bad}"
            );
        }
        let max = "170141183460469231731687303715884105727";
        assert!(Number::parse(max).is_err());
        assert_eq!(n("1e38").to_string(), format!("1{}", "0".repeat(38)));
        assert_eq!(
            n("-0.999999999999999999999999999999999999").round(0),
            n("-1")
        );
    }

    #[test]
    fn json_keeps_integers_and_decimals() {
        assert_eq!(n("42").to_json(), serde_json::json!(42));
        assert_eq!(n("42.50").to_json(), serde_json::json!(42.5));
        assert_eq!(
            Number::from_json(&serde_json::Number::from_f64(19.99).unwrap()).unwrap(),
            n("19.99")
        );
    }

    #[test]
    fn rounding_and_ordering() {
        assert_eq!(n("1.005").round(2), n("1.01"));
        assert_eq!(n("1.004").round(2), n("1"));
        assert_eq!(n("12").round(2), n("12"));
        assert_eq!(n("1.5").cmp_value(n("1.25")), std::cmp::Ordering::Greater);
        assert_eq!(n("-1").cmp_value(n("0.5")), std::cmp::Ordering::Less);
    }
}
