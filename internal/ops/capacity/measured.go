package capacity

// Sink names, as the stack's <sink>Enabled context keys and -share use them.
const (
	SinkS3       = "s3"
	SinkFirehose = "firehose"
	SinkLogs     = "logs"
)

// Sinks lists the sinks in the order the stack creates their functions;
// the first enabled one writes the health table (issue 20).
var Sinks = []string{SinkS3, SinkFirehose, SinkLogs}

// Throughput is one sink's measured CPU throughput: MB (10^6 bytes) of
// uncompressed subscription JSON per CPU second on one core.
type Throughput struct {
	// Path is the whole path: decode, prepare, the real SDK client.
	Path float64 `json:"pathMBps"`
	// Decode is the decode alone, what events routed elsewhere cost.
	Decode float64 `json:"decodeMBps"`
	// PeakHeapMB is a 6 MB invocation's peak heap at the stack's settings.
	PeakHeapMB float64 `json:"peakHeapMB"`
}

// MeasuredOn says where Measured comes from.
const MeasuredOn = "make cost on 2026-12-04: one core of the 2-vCPU build VM (AMD, not Graviton), -cpu 1 -count 6, medians; docs/performance.md, Performance and cost"

// Measured holds `make cost`'s recorded figures per sink (MeasuredOn): the
// table in docs/performance.md. Rerun `make cost` and update both together.
var Measured = map[string]Throughput{
	SinkS3:       {Path: 110, Decode: 276, PeakHeapMB: 48},
	SinkFirehose: {Path: 122, Decode: 216, PeakHeapMB: 49},
	SinkLogs:     {Path: 180, Decode: 290, PeakHeapMB: 59},
}

// Workload describes the log data: what the stream carries for it.
type Workload struct {
	// Ratio is uncompressed subscription JSON bytes per byte of the gzip
	// payloads CloudWatch Logs puts on the stream.
	Ratio float64 `json:"ratio"`
	// EventBytes is the mean subscription JSON per log event: the message
	// and EventOverheadBytes around it.
	EventBytes float64 `json:"eventBytes"`
	// EventsPerRecord is the mean number of log events in a Kinesis record
	// (one gzip payload: a batch of one log stream's events).
	EventsPerRecord float64 `json:"eventsPerRecord"`
}

// RecordBytes is the mean Kinesis record: a gzip payload.
func (w Workload) RecordBytes() float64 { return w.EventsPerRecord * w.EventBytes / w.Ratio }

// MessageBytes is the mean message of an event (what the Logs sink writes).
func (w Workload) MessageBytes() float64 { return w.EventBytes - EventOverheadBytes }

// LineBytes is the mean NDJSON line of an event (what S3 objects and
// Firehose records hold): it repeats the owner, log group and stream the
// subscription JSON holds once per record.
func (w Workload) LineBytes() float64 { return w.EventBytes + LineExtraBytes }

// Sample is the workload measured on the generated application logs
// `make cost` benchmarks (benchinput.Payloads(1, 10, 1000, eventgen.KindApp):
// 10 records of 1,000 events, messages ~200 bytes): the default of the
// plan's flags, so that the ratio matches the data the throughput was
// measured on. TestSampleWorkload measures it again and fails on a change.
var Sample = Workload{Ratio: 3.706, EventBytes: 319.2, EventsPerRecord: 1000}

// Measured on the same data as Sample (TestSampleWorkload).
const (
	// EventOverheadBytes is a log event's subscription JSON beyond its
	// message: id, timestamp, keys, and its share of the record's envelope.
	EventOverheadBytes = 118.2
	// LineExtraBytes is an NDJSON line's bytes beyond the event's
	// subscription JSON: what Firehose ingests per event, packed into
	// records (the Firehose benchmark bills 0.0841 5 KB units per event =
	// 430.6 bytes, for 430.0-byte lines).
	LineExtraBytes = 110.8
	// S3GzipGain is the S3 objects' gzip (level 1) ratio over the stream's:
	// the repeated envelope of each line compresses away (4.574 against 3.706).
	S3GzipGain = 1.234
)
