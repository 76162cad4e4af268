//! Shell execution behind one small interface: `bash -o pipefail -c`, own process group,
//! timeout, output capture, and termination of the whole group (TERM, grace, KILL).
