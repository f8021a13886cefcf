// Package logssink delivers log events to CloudWatch Logs log groups in a
// target region with PutLogEvents, within the API's exact limits, creating
// groups (with retention) and streams on demand, and never dropping an event
// silently: each lands, is reported in sink.Result.Undeliverable with its
// kind and reason (the consumer quarantines it), or is reported back through
// sink.Result.FailedAt for Lambda to retry.
//
// The package is split by concern: options.go (Option, defaults, New),
// deliver.go (Deliver: prepare, run, stream, put, bisect, error classes),
// rejected.go (rejectedLogEventsInfo), groups.go (creating groups and
// streams, retention), batch.go and serialize.go (the hot loops: packing
// batches and writing PutLogEvents bodies), naming.go (templates).
//
// What the sink decides (see also Limits, SanitizeGroup, SanitizeStream):
//   - Events up to 1 MB are delivered. Oversize events (message over
//     Limits.MaxMessageBytes, 1,048,550 bytes by default: the 1,048,576-byte
//     event and batch limit minus the 26-byte event overhead) are
//     undeliverable (KindTooLarge) whole, not split: the quarantine keeps
//     the event's exact bytes and ID, and a split event would read as
//     several unrelated lines in CloudWatch Logs.
//   - Invalid UTF-8 is repaired by default: each invalid byte becomes U+FFFD,
//     which is what the SDK's JSON encoder would send anyway, and the event's
//     size is counted after repair (each such byte then costs 3 bytes), the
//     way the service counts it. WithInvalidUTF8(QuarantineInvalidUTF8)
//     reports such events undeliverable (KindInvalidUTF8) instead.
//   - Empty messages (PutLogEvents requires at least one byte) are
//     undeliverable (KindEmpty).
//   - rejectedLogEventsInfo indexes are read as the API reference defines them
//     on the sorted batch that was sent: events from tooNewLogEventStartIndex
//     (inclusive) to the end are too new; events before tooOldLogEventEndIndex
//     (exclusive) are too old; events before expiredLogEventEndIndex are
//     expired (the reference does not say; it is read as exclusive, like
//     tooOldLogEventEndIndex, which is also how the CloudWatch agent counts
//     them). They are undeliverable (RejectedTooOld, RejectedExpired,
//     RejectedTooNew), never retried.
//   - An InvalidParameterException for a whole batch is bisected to find the
//     events the service refuses; a single refused event is undeliverable
//     (RejectedInvalidParameter). Bisection is bounded per Deliver; past the
//     bound the batch fails through FailedAt instead.
//   - Retention: before its first write to a group in each process, the
//     sink sets the group's retention to the configured one (creating the
//     group if missing), and writes nothing to the group until that
//     succeeded; so retention converges even when an earlier process lost
//     a CreateLogGroup answer or ended before PutRetentionPolicy succeeded.
//     The configured retention is authoritative for every group under the
//     template: a retention set there by hand is reset on the next cold
//     start (see ensureRetention).
//   - Retries (throttling, 5xx, timeouts) follow the retry.Policy given with
//     WithRetry and are at-least-once: a call that timed out may have landed,
//     and CloudWatch Logs does not deduplicate, so a retried call or a
//     re-delivered suffix can duplicate events.
package logssink

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
	"github.com/logfan/logfan/shared/sink"
)

// API is the part of the CloudWatch Logs client the sink calls, with the
// SDK's exact signatures; *cloudwatchlogs.Client implements it.
type API interface {
	PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error)
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	CreateLogStream(ctx context.Context, in *cloudwatchlogs.CreateLogStreamInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogStreamOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

var (
	_ API       = (*cloudwatchlogs.Client)(nil)
	_ sink.Sink = (*Sink)(nil)
)

// Kinds of sink.Undeliverable the sink reports: the events PutLogEvents
// refused, and those it refuses to send (invalid UTF-8 when so configured,
// empty, over the size limit).
const (
	// KindInvalidUTF8 is a message that is not valid UTF-8 (with QuarantineInvalidUTF8).
	KindInvalidUTF8 = "invalidUTF8"
	// KindEmpty is an empty message.
	KindEmpty = "empty"
	// KindTooLarge is a message over the PutLogEvents event size limit.
	KindTooLarge = "tooLarge"
	// RejectedTooOld counts events older than 14 days (rejectedLogEventsInfo.tooOldLogEventEndIndex).
	RejectedTooOld = "tooOld"
	// RejectedExpired counts events older than the group's retention (expiredLogEventEndIndex).
	RejectedExpired = "expired"
	// RejectedTooNew counts events more than 2 hours in the future (tooNewLogEventStartIndex).
	RejectedTooNew = "tooNew"
	// RejectedInvalidParameter counts single events PutLogEvents answered with InvalidParameterException.
	RejectedInvalidParameter = "InvalidParameterException"
)

// Sink writes batches to CloudWatch Logs. It is built once per cold start
// and keeps, across invocations, the template expansions and the groups it
// knows exist. It is safe for concurrent use.
type Sink struct {
	client    API
	retention int32
	namer     *Namer

	lim            Limits
	concurrency    int
	retry          retry.Policy
	defaultTimeout time.Duration
	invalidUTF8    InvalidUTF8
	nameCache      int
	bisectCalls    int
	putOpts        []func(*cloudwatchlogs.Options)

	mu     sync.Mutex
	groups map[string]*groupState
}

// Name implements sink.Sink.
func (s *Sink) Name() string { return config.SinkLogs }

// Target returns where events from owner's logGroup/logStream are written.
func (s *Sink) Target(owner, logGroup, logStream string) Target {
	return s.namer.Target(owner, logGroup, logStream)
}
