//! The REST API over real loopback HTTP: a MiniCluster runs a real job (a socket
//! source fed by the test, so it runs until the test ends it), a `RestServer` serves
//! it on port 0, and `RestClient` sends the requests.

mod cancel;
mod checkpoint_trigger;
mod details;
mod environment;
mod errors;
mod routes;
mod savepoints;
mod server;
mod shape;
mod shapes;
mod submission;
mod support;
