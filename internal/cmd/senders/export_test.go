package senders

// RunEnv is run for the external tests (package senders_test imports the
// demo's table helper, which imports this package).
var RunEnv = run
