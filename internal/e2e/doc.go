// Package e2e holds logfan's end-to-end suites: each runs the functions'
// real handlers (shared/app, through the same builders the Lambda entry
// points use) on moto_server, the whole pipeline from a Kinesis event to
// what lands: decode, route, the S3, Firehose and CloudWatch Logs sinks,
// the ledger and the quarantine, read back and counted. They live apart
// from shared/app, which keeps its unit tests and benchmarks, because they
// exercise every runtime package at once and need the local environment
// (internal/devkit/localenv) and the operator's read-back libraries.
//
// The package has no code: `go test ./internal/e2e` runs the suites
// (skipped with -short, which starts no emulator).
package e2e
