// Package firehosesink delivers log events to an Amazon Data Firehose stream
// as NDJSON (one record.Record object per line, each line ending in '\n'),
// through PutRecordBatch within the service's limits, resending only the
// entries that failed and reporting events too large for any record as
// undeliverable (the consumer quarantines them).
//
// # Packing
//
// Firehose bills every record rounded up to the next 5 KB, so one ~400-byte
// event per record pays for 5 KB. By default (LOGFAN_FIREHOSE_PACKING=pack)
// the sink packs consecutive events, in stream order and across Kinesis
// records, into records of up to 1,000 KiB, and fills each call up to 500
// records and 4 MiB. The destination sees the same NDJSON either way, since
// Firehose concatenates records and every record ends with a newline.
// Billed 5 KB units for the sample data (go test -run TestBillingSavings -v):
//
//	input                                 events  one per record  packed  saving
//	events/kinesis-data.json                  31              31       4   87.1%
//	events/generated/kinesis-6mb.json     32,300          32,300   3,728   88.5%
//	benchinput app 10x1000                10,000          10,000     841   91.6%
//	benchinput cloudtrail 10x1000         10,000          10,000   1,573   84.3%
//
// LOGFAN_FIREHOSE_PACKING=single sends one event per record, for
// destinations that transform records one by one (a Lambda processor or
// dynamic partitioning that expects one JSON object per record).
//
// # Serialization
//
// PutRecordBatch bodies are written by the sink (serialize.go), not the
// SDK's schema-driven serializer: base64 straight into one exactly sized,
// pooled buffer. They are byte-identical to the SDK's (a differential fuzz
// test holds them to it) and the SDK serializes any input the fast path
// does not expect; endpoint, headers, signing and response parsing stay
// the SDK's. WithSDKSerializer turns it off.
//
// # Failures
//
// A call that fails whole with an error the retry policy (shared/retry)
// classifies as retryable (throttling, 5xx, a timeout, the network) is repeated; after a partial failure (FailedPutCount >
// 0) only the entries with an ErrorCode are resent, before anything new is
// sent, so a failure that lasts until the deadline leaves as little as
// possible landed past it. Retries back off exponentially with full jitter
// and stop when the next wait would pass ctx's deadline. Each Firehose
// record remembers the lowest Kinesis record index of its events; FailedAt
// is the lowest index among records that never landed and events not yet sent.
//
// An event whose own NDJSON line exceeds the record limit is not split
// (that would break the one-object-per-line contract readers rely on): it
// is reported undeliverable (kind "tooLarge", reason "event exceeds the
// Firehose record limit (N bytes > 1024000)") and the consumer quarantines it.
package firehosesink
