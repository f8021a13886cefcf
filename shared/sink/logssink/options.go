package logssink

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/retry"
)

// InvalidUTF8 says what the sink does with a message that is not valid UTF-8.
type InvalidUTF8 int

const (
	// RepairInvalidUTF8 replaces each invalid byte with U+FFFD and delivers the event (default).
	RepairInvalidUTF8 InvalidUTF8 = iota
	// QuarantineInvalidUTF8 reports the event undeliverable, to be quarantined with its original bytes.
	QuarantineInvalidUTF8
)

// Defaults for the sink's options.
const (
	// DefaultConcurrency is how many target streams are written in parallel.
	DefaultConcurrency = 4
	// DefaultTimeout bounds Deliver when its context has no deadline.
	DefaultTimeout = 60 * time.Second
	// DefaultBisectCalls bounds the calls one Deliver spends isolating events
	// behind an InvalidParameterException.
	DefaultBisectCalls = 64
	// DefaultKnownGroups bounds how many groups the sink remembers as existing with their retention set.
	DefaultKnownGroups = 4096
)

// Option configures a Sink.
type Option func(*Sink)

// WithLimits overrides the PutLogEvents limits (DefaultLimits); fields that are not positive keep their default.
func WithLimits(l Limits) Option {
	return func(s *Sink) {
		if l.MaxBatchEvents > 0 {
			s.lim.MaxBatchEvents = l.MaxBatchEvents
		}
		if l.MaxBatchBytes > 0 {
			s.lim.MaxBatchBytes = l.MaxBatchBytes
		}
		if l.MaxSpanMillis > 0 {
			s.lim.MaxSpanMillis = l.MaxSpanMillis
		}
		if l.MaxMessageBytes > 0 {
			s.lim.MaxMessageBytes = l.MaxMessageBytes
		}
	}
}

// WithConcurrency sets how many target streams are written in parallel (DefaultConcurrency).
func WithConcurrency(n int) Option {
	return func(s *Sink) {
		if n > 0 {
			s.concurrency = n
		}
	}
}

// WithRetry sets the retry policy (retry.Default() otherwise).
func WithRetry(p retry.Policy) Option { return func(s *Sink) { s.retry = p } }

// WithDefaultTimeout bounds Deliver when its context has no deadline (DefaultTimeout).
func WithDefaultTimeout(d time.Duration) Option {
	return func(s *Sink) {
		if d > 0 {
			s.defaultTimeout = d
		}
	}
}

// WithInvalidUTF8 chooses what happens to messages that are not valid UTF-8.
func WithInvalidUTF8(p InvalidUTF8) Option { return func(s *Sink) { s.invalidUTF8 = p } }

// WithNameCacheSize bounds the cache of template expansions (DefaultNameCacheSize).
func WithNameCacheSize(n int) Option { return func(s *Sink) { s.nameCache = n } }

// WithBisectCalls bounds the calls one Deliver spends isolating refused events (DefaultBisectCalls).
func WithBisectCalls(n int) Option {
	return func(s *Sink) {
		if n >= 0 {
			s.bisectCalls = n
		}
	}
}

// WithSDKSerializer makes PutLogEvents bodies be written by the SDK's own
// serializer instead of the sink's faster, equivalent one.
func WithSDKSerializer() Option { return func(s *Sink) { s.putOpts = nil } }

// New returns a sink writing through client (built for cfg.Region) into the
// groups and streams cfg's templates name.
func New(client API, cfg config.Logs, opts ...Option) *Sink {
	s := &Sink{
		client:         client,
		retention:      cfg.RetentionDays,
		lim:            DefaultLimits(),
		concurrency:    DefaultConcurrency,
		retry:          retry.Default(),
		defaultTimeout: DefaultTimeout,
		bisectCalls:    DefaultBisectCalls,
		putOpts:        []func(*cloudwatchlogs.Options){fastPut},
		groups:         make(map[string]*groupState),
	}
	for _, o := range opts {
		o(s)
	}
	groupTmpl, streamTmpl := cfg.GroupTemplate, cfg.StreamTemplate
	if groupTmpl == "" {
		groupTmpl = config.DefaultLogsGroupTemplate
	}
	if streamTmpl == "" {
		streamTmpl = config.DefaultLogsStreamTemplate
	}
	s.namer = NewNamer(groupTmpl, streamTmpl, s.nameCache)
	return s
}
