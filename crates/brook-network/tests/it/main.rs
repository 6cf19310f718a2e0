//! Integration tests of the data plane: framing, the credit protocol, and real
//! loopback TCP between environments.

mod credit_properties;
mod framing;
mod loopback;
