package senders

// RunEnv is run for the external tests (package senders_test runs the
// command from outside, as cmd/logfan does, with its own environment).
var RunEnv = run
