package firehosesink

// PutRecordBatch limits, from the API reference ("Each PutRecordBatch
// request supports up to 500 records. Each record in the request can be as
// large as 1,000 KB (before base64 encoding), up to a limit of 4 MB for the
// entire request. These limits cannot be changed.") and
// docs/aws-limits.md, whose quota page gives them as 1,000 KiB and 4 MiB.
// The 4 MiB counts record data before base64, as the per-record limit does
// (and as AWS's own Fluent Bit plugin counts it); WithLimits lowers it if a
// deployment ever sees InvalidArgumentException for a full call.
const (
	// MaxBatchRecords is the most records one PutRecordBatch call may carry.
	MaxBatchRecords = 500
	// MaxBatchBytes is the most data bytes (before base64) one PutRecordBatch call may carry: 4 MiB.
	MaxBatchBytes = 4 << 20
	// MaxRecordBytes is the largest Firehose record (before base64): 1,000 KiB.
	MaxRecordBytes = 1000 << 10
)

// BillingIncrement is the step Firehose rounds each ingested record up to
// for billing (5 KB, taken as 5,120 bytes; per record, not per call: two
// 1 KB records in one PutRecordBatch bill as 10 KB). Packing many small
// events into one record is what makes the sink cheaper than one event per
// record. Used for reporting only.
const BillingIncrement = 5 << 10

// BillingUnits returns how many 5 KB increments a record of n bytes is billed as.
func BillingUnits(n int) int {
	if n <= 0 {
		return 0
	}
	return (n + BillingIncrement - 1) / BillingIncrement
}

// Limits are the PutRecordBatch limits the sink packs within.
type Limits struct {
	// Records caps records per call (MaxBatchRecords by default).
	Records int
	// CallBytes caps the summed record data bytes per call (MaxBatchBytes by default).
	CallBytes int
	// RecordBytes caps one record's data bytes (MaxRecordBytes by default).
	RecordBytes int
}

// DefaultLimits are the service's documented limits.
func DefaultLimits() Limits {
	return Limits{Records: MaxBatchRecords, CallBytes: MaxBatchBytes, RecordBytes: MaxRecordBytes}
}

// orDefault fills unset (zero or negative) fields from DefaultLimits, and
// keeps a record no larger than a call, which could otherwise never be sent.
func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.Records <= 0 {
		l.Records = d.Records
	}
	if l.CallBytes <= 0 {
		l.CallBytes = d.CallBytes
	}
	if l.RecordBytes <= 0 {
		l.RecordBytes = d.RecordBytes
	}
	l.RecordBytes = min(l.RecordBytes, l.CallBytes)
	return l
}
