package config

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/subscription"
)

// Load reads the configuration for sink from getenv (os.Getenv in
// production), and reports every missing or malformed variable in one error.
func Load(sink string, getenv func(string) string) (*Config, error) {
	e := &envReader{getenv: getenv, sink: sink}
	c := &Config{Sink: sink}
	c.MaxDecompressed = e.maxDecompressed()
	c.DeliveryTimeout = e.duration(EnvDeliveryTimeout, MinDeliveryTimeout)
	c.AttemptTimeout = e.duration(EnvAttemptTimeout, MinAttemptTimeout)
	c.Ledger = e.ledger()
	c.HubAccount = e.str(EnvHubAccount, "")
	e.optional(EnvHubAccount, c.HubAccount, CheckAccount)
	c.Health = e.health()
	c.Quarantine = e.quarantine()
	switch sink {
	case SinkS3:
		c.S3 = e.s3()
	case SinkFirehose:
		c.Firehose = e.firehose()
	case SinkLogs:
		c.Logs = e.logs()
	case SinkStdout:
	default:
		e.fail(fmt.Errorf("unknown sink %q: want %s, %s, %s or %s", sink, SinkS3, SinkFirehose, SinkLogs, SinkStdout))
	}
	// Routes resolve against the sink's settings, so they come after them.
	c.Routes = e.routeTable(c)
	if sink != SinkStdout && c.Quarantine.Bucket == "" {
		e.missing(EnvQuarantineBucket)
	}
	if len(e.errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(e.errs...))
	}
	return c, nil
}

// envReader reads one function's settings from its environment and
// gathers every problem instead of stopping at the first, so that Load
// reports them all in one error.
type envReader struct {
	getenv func(string) string
	sink   string
	errs   []error
}

// fail records a problem.
func (e *envReader) fail(err error) { e.errs = append(e.errs, err) }

// missing records a variable the sink needs that is not set.
func (e *envReader) missing(name string) {
	e.fail(fmt.Errorf("%s is required for the %s sink", name, e.sink))
}

// str returns variable name, trimmed, or def if it is empty.
func (e *envReader) str(name, def string) string {
	if v := strings.TrimSpace(e.getenv(name)); v != "" {
		return v
	}
	return def
}

// integer returns variable name as an integer from lo to hi, or def if it
// is empty or (recording why) malformed.
func (e *envReader) integer(name string, def, lo, hi int64) int64 {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		e.fail(fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, lo, hi))
		return def
	}
	return n
}

// duration returns variable name as a Go duration (0 if empty), recording
// a malformed one or one below minimum.
func (e *envReader) duration(name string, minimum time.Duration) time.Duration {
	v := strings.TrimSpace(e.getenv(name))
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < minimum {
		e.fail(fmt.Errorf("%s=%q: want a Go duration of at least %v, such as 30s", name, v, minimum))
	}
	return d
}

// check records a failed check of setting name's value v.
func (e *envReader) check(name, v string, f func(string) error) {
	if err := f(v); err != nil {
		e.fail(fmt.Errorf("%s=%q: %w", name, v, err))
	}
}

// optional checks setting name's value v if it is set.
func (e *envReader) optional(name, v string, f func(string) error) {
	if v != "" {
		e.check(name, v, f)
	}
}

// maxDecompressed is the payload cap: derived from the function's memory
// unless set, and when set, no more than that memory holds.
func (e *envReader) maxDecompressed() int64 {
	maxCap, derived := int64(1<<30), int64(subscription.DefaultMaxDecompressed)
	if memory := e.integer(EnvLambdaMemory, 0, 128, 10240); memory > 0 {
		maxCap = MaxDecompressedFor(int(memory))
		derived = maxCap
	}
	v := strings.TrimSpace(e.getenv(EnvMaxDecompressedBytes))
	if v == "" {
		return derived
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil || n < MinMaxDecompressed || n > 1<<30:
		e.fail(fmt.Errorf("%s=%q: want an integer from %d to %d", EnvMaxDecompressedBytes, v, MinMaxDecompressed, 1<<30))
	case n > maxCap:
		e.fail(fmt.Errorf("%s=%d: at most %d for a function of %s MB: a payload near the cap needs about 2.5 times it in memory; raise the function's memory or lower the cap",
			EnvMaxDecompressedBytes, n, maxCap, strings.TrimSpace(e.getenv(EnvLambdaMemory))))
	default:
		return n
	}
	return derived
}

// ledger reads the ledger's table and entry lifetime.
func (e *envReader) ledger() Ledger {
	l := Ledger{Table: e.str(EnvLedgerTable, ""), TTL: e.duration(EnvLedgerTTL, MinLedgerTTL)}
	if l.TTL == 0 {
		l.TTL = DefaultLedgerTTL
	}
	e.optional(EnvLedgerTable, l.Table, CheckTableName)
	return l
}

// health reads sender health's table and heartbeat log groups.
func (e *envReader) health() Health {
	h := Health{Table: e.str(EnvHealthTable, "")}
	for _, g := range strings.Split(e.str(EnvHeartbeatLogGroup, DefaultHeartbeatLogGroup), ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if !validLogGroupName(g) {
			e.fail(fmt.Errorf("%s: %q is not a log group name (1 to 512 of a-z A-Z 0-9 _ - / . #)", EnvHeartbeatLogGroup, g))
		}
		h.HeartbeatLogGroups = append(h.HeartbeatLogGroups, g)
	}
	return h
}

// quarantine reads where undeliverable items go (Load requires the bucket
// for every sink but stdout).
func (e *envReader) quarantine() Quarantine {
	q := Quarantine{
		Bucket:   e.str(EnvQuarantineBucket, ""),
		Prefix:   strings.Trim(e.str(EnvQuarantinePrefix, DefaultQuarantinePrefix), "/"),
		KMSKeyID: e.str(EnvQuarantineKMSKeyID, ""),
	}
	e.optional(EnvQuarantineBucket, q.Bucket, CheckBucketName)
	e.check(EnvQuarantinePrefix, q.Prefix, CheckQuarantinePrefix)
	e.optional(EnvQuarantineKMSKeyID, q.KMSKeyID, CheckKMSKey)
	return q
}

// s3 reads the S3 sink's settings.
func (e *envReader) s3() S3 {
	s := S3{
		Bucket:         e.str(EnvS3Bucket, ""),
		Prefix:         strings.Trim(e.str(EnvS3Prefix, DefaultS3Prefix), "/"),
		KMSKeyID:       e.str(EnvS3KMSKeyID, ""),
		MaxObjectBytes: e.integer(EnvS3MaxObjectBytes, DefaultS3MaxObjectBytes, 1<<20, 5<<30),
		Format:         e.str(EnvS3Format, s3layout.FormatNDJSON),
	}
	if s.Bucket == "" {
		e.missing(EnvS3Bucket)
	}
	e.optional(EnvS3Bucket, s.Bucket, CheckBucketName)
	e.check(EnvS3Prefix, s.Prefix, CheckPrefix)
	e.optional(EnvS3KMSKeyID, s.KMSKeyID, CheckKMSKey)
	if s.Format != s3layout.FormatNDJSON && s.Format != s3layout.FormatParquet {
		e.fail(fmt.Errorf("%s=%q: want %q or %q", EnvS3Format, s.Format, s3layout.FormatNDJSON, s3layout.FormatParquet))
	}
	return s
}

// firehose reads the Firehose sink's settings.
func (e *envReader) firehose() Firehose {
	f := Firehose{Stream: e.str(EnvFirehoseStream, ""), Packing: e.str(EnvFirehosePacking, PackingPack)}
	if f.Stream == "" {
		e.missing(EnvFirehoseStream)
	}
	e.optional(EnvFirehoseStream, f.Stream, CheckStreamName)
	if f.Packing != PackingPack && f.Packing != PackingSingle {
		e.fail(fmt.Errorf("%s=%q: want %q or %q", EnvFirehosePacking, f.Packing, PackingPack, PackingSingle))
	}
	return f
}

// logs reads the CloudWatch Logs sink's settings.
func (e *envReader) logs() Logs {
	l := Logs{
		Region:         e.str(EnvLogsRegion, ""),
		GroupTemplate:  e.str(EnvLogsGroupTemplate, DefaultLogsGroupTemplate),
		StreamTemplate: e.str(EnvLogsStreamTemplate, DefaultLogsStreamTemplate),
		RetentionDays:  int32(e.integer(EnvLogsRetentionDays, DefaultLogsRetentionDays, 1, 3653)),
	}
	if l.Region == "" {
		e.missing(EnvLogsRegion)
	}
	e.optional(EnvLogsRegion, l.Region, CheckRegion)
	if !validRetentionDays(l.RetentionDays) {
		e.fail(fmt.Errorf("%s=%d: CloudWatch Logs accepts only %v", EnvLogsRetentionDays, l.RetentionDays, validRetention))
	}
	e.check(EnvLogsGroupTemplate, l.GroupTemplate, CheckGroupTemplate)
	e.check(EnvLogsStreamTemplate, l.StreamTemplate, CheckStreamTemplate)
	return l
}

// routeTable reads the route table, inline or from a file, resolved
// against c's sink settings (nil if neither is set).
func (e *envReader) routeTable(c *Config) *routes.Table {
	inline, file := strings.TrimSpace(e.getenv(EnvRoutes)), strings.TrimSpace(e.getenv(EnvRoutesFile))
	switch {
	case inline != "" && file != "":
		e.fail(fmt.Errorf("set %s or %s, not both", EnvRoutes, EnvRoutesFile))
	case inline != "":
		t, err := ParseRoutes([]byte(inline), c.RouteDefaults())
		if err != nil {
			e.fail(fmt.Errorf("%s: %w", EnvRoutes, err))
		}
		return t
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			e.fail(fmt.Errorf("%s: %w", EnvRoutesFile, err))
			return nil
		}
		t, err := ParseRoutes(data, c.RouteDefaults())
		if err != nil {
			e.fail(fmt.Errorf("%s=%s: %w", EnvRoutesFile, file, err))
		}
		return t
	}
	return nil
}
