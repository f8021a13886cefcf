package config

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/s3layout"
	"github.com/logfan/logfan/shared/subscription"
)

// Defaults for optional settings.
const (
	DefaultS3Prefix           = "logs"
	DefaultS3MaxObjectBytes   = 64 << 20
	DefaultLogsGroupTemplate  = "/logfan/" + PlaceholderOwner + "/" + PlaceholderLogGroup
	DefaultLogsStreamTemplate = PlaceholderLogStream
	DefaultLogsRetentionDays  = 30
	DefaultQuarantinePrefix   = "quarantine"
	DefaultLedgerTTL          = 24 * time.Hour
	PackingPack               = "pack"
	PackingSingle             = "single"
)

// Config is logfan's runtime configuration for one sink.
type Config struct {
	// Sink is the sink this function delivers to (SinkS3, SinkFirehose, SinkLogs or SinkStdout).
	Sink string
	// MaxDecompressed caps a payload's decompressed size in bytes.
	MaxDecompressed int64
	// DeliveryTimeout bounds retrying within one invocation; zero means "until shortly before the deadline".
	DeliveryTimeout time.Duration
	// AttemptTimeout bounds one call to AWS; zero means retry.DefaultAttemptTimeout.
	AttemptTimeout time.Duration

	S3         S3
	Firehose   Firehose
	Logs       Logs
	Quarantine Quarantine
	// Routes, if set, choose the targets of each record (nil: the default target).
	Routes *routes.Table
	Ledger Ledger
	// Health configures sender health: heartbeat recognition (always on) and the table.
	Health Health
	// HubAccount is the account whose payloads may name their events'
	// source account (EnvHubAccount); "" trusts none.
	HubAccount string
}

// Health configures sender health (package health).
type Health struct {
	// Table is the DynamoDB table this function writes sender health to; empty writes nothing.
	Table string
	// HeartbeatLogGroups name the log groups whose events are heartbeats:
	// counted, never delivered to a sink.
	HeartbeatLogGroups []string
}

// Ledger configures the ledger of what landed before a retry point; an
// empty Table turns it off.
type Ledger struct {
	Table string
	// TTL is how long an entry is kept: the stream's retention.
	TTL time.Duration
}

// S3 configures the S3 sink.
type S3 struct {
	Bucket         string
	Prefix         string
	KMSKeyID       string
	MaxObjectBytes int64
	// Format is s3layout.FormatNDJSON or s3layout.FormatParquet.
	Format string
}

// Firehose configures the Firehose sink.
type Firehose struct {
	Stream string
	// Packing is PackingPack or PackingSingle.
	Packing string
}

// Logs configures the cross-region CloudWatch Logs sink.
type Logs struct {
	Region         string
	GroupTemplate  string
	StreamTemplate string
	RetentionDays  int32
}

// Quarantine configures where undeliverable items go. An empty Bucket means
// "no S3 quarantine" and is only valid for the stdout sink (replay prints
// quarantined items to stderr instead).
type Quarantine struct {
	Bucket string
	Prefix string
	// KMSKeyID, if set, encrypts entries with SSE-KMS under this key.
	KMSKeyID string
}

// validRetention lists the values PutRetentionPolicy accepts.
var validRetention = []int32{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// Load reads the configuration for sink from getenv (os.Getenv in
// production), and reports every missing or malformed variable in one error.
func Load(sink string, getenv func(string) string) (*Config, error) {
	var errs []error
	missing := func(name string) { errs = append(errs, fmt.Errorf("%s is required for the %s sink", name, sink)) }
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	integer := func(name string, def, min, max int64) int64 {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("%s=%q: want an integer from %d to %d", name, v, min, max))
			return def
		}
		return n
	}

	c := &Config{Sink: sink}
	var err error
	// The cap is derived from the function's memory unless set; set, it
	// may not exceed what the memory holds.
	maxCap := int64(1 << 30)
	c.MaxDecompressed = subscription.DefaultMaxDecompressed
	if memory := integer(EnvLambdaMemory, 0, 128, 10240); memory > 0 {
		maxCap = MaxDecompressedFor(int(memory))
		c.MaxDecompressed = maxCap
	}
	if v := strings.TrimSpace(getenv(EnvMaxDecompressedBytes)); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n < MinMaxDecompressed || n > 1<<30:
			errs = append(errs, fmt.Errorf("%s=%q: want an integer from %d to %d", EnvMaxDecompressedBytes, v, MinMaxDecompressed, 1<<30))
		case n > maxCap:
			errs = append(errs, fmt.Errorf("%s=%d: at most %d for a function of %s MB: a payload near the cap needs about 2.5 times it in memory; raise the function's memory or lower the cap",
				EnvMaxDecompressedBytes, n, maxCap, strings.TrimSpace(getenv(EnvLambdaMemory))))
		default:
			c.MaxDecompressed = n
		}
	}
	duration := func(name string, minimum time.Duration) time.Duration {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < minimum {
			errs = append(errs, fmt.Errorf("%s=%q: want a Go duration of at least %v, such as 30s", name, v, minimum))
		}
		return d
	}
	// check records a failed check of a setting.
	check := func(name, v string, f func(string) error) {
		if err := f(v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	}
	optional := func(name, v string, f func(string) error) {
		if v != "" {
			check(name, v, f)
		}
	}
	c.DeliveryTimeout = duration(EnvDeliveryTimeout, MinDeliveryTimeout)
	c.AttemptTimeout = duration(EnvAttemptTimeout, MinAttemptTimeout)
	c.Ledger = Ledger{Table: str(EnvLedgerTable, ""), TTL: duration(EnvLedgerTTL, MinLedgerTTL)}
	if c.Ledger.TTL == 0 {
		c.Ledger.TTL = DefaultLedgerTTL
	}
	optional(EnvLedgerTable, c.Ledger.Table, CheckTableName)
	c.HubAccount = str(EnvHubAccount, "")
	optional(EnvHubAccount, c.HubAccount, CheckAccount)
	c.Health = Health{Table: str(EnvHealthTable, "")}
	for _, g := range strings.Split(str(EnvHeartbeatLogGroup, DefaultHeartbeatLogGroup), ",") {
		if g = strings.TrimSpace(g); g == "" {
			continue
		}
		if !validLogGroupName(g) {
			errs = append(errs, fmt.Errorf("%s: %q is not a log group name (1 to 512 of a-z A-Z 0-9 _ - / . #)", EnvHeartbeatLogGroup, g))
		}
		c.Health.HeartbeatLogGroups = append(c.Health.HeartbeatLogGroups, g)
	}
	c.Quarantine = Quarantine{
		Bucket:   str(EnvQuarantineBucket, ""),
		Prefix:   strings.Trim(str(EnvQuarantinePrefix, DefaultQuarantinePrefix), "/"),
		KMSKeyID: str(EnvQuarantineKMSKeyID, ""),
	}
	optional(EnvQuarantineBucket, c.Quarantine.Bucket, CheckBucketName)
	check(EnvQuarantinePrefix, c.Quarantine.Prefix, CheckQuarantinePrefix)
	optional(EnvQuarantineKMSKeyID, c.Quarantine.KMSKeyID, CheckKMSKey)

	switch sink {
	case SinkS3:
		c.S3 = S3{
			Bucket:         str(EnvS3Bucket, ""),
			Prefix:         strings.Trim(str(EnvS3Prefix, DefaultS3Prefix), "/"),
			KMSKeyID:       str(EnvS3KMSKeyID, ""),
			MaxObjectBytes: integer(EnvS3MaxObjectBytes, DefaultS3MaxObjectBytes, 1<<20, 5<<30),
			Format:         str(EnvS3Format, s3layout.FormatNDJSON),
		}
		if c.S3.Bucket == "" {
			missing(EnvS3Bucket)
		}
		optional(EnvS3Bucket, c.S3.Bucket, CheckBucketName)
		check(EnvS3Prefix, c.S3.Prefix, CheckPrefix)
		optional(EnvS3KMSKeyID, c.S3.KMSKeyID, CheckKMSKey)
		if c.S3.Format != s3layout.FormatNDJSON && c.S3.Format != s3layout.FormatParquet {
			errs = append(errs, fmt.Errorf("%s=%q: want %q or %q", EnvS3Format, c.S3.Format, s3layout.FormatNDJSON, s3layout.FormatParquet))
		}
	case SinkFirehose:
		c.Firehose = Firehose{Stream: str(EnvFirehoseStream, ""), Packing: str(EnvFirehosePacking, PackingPack)}
		if c.Firehose.Stream == "" {
			missing(EnvFirehoseStream)
		}
		optional(EnvFirehoseStream, c.Firehose.Stream, CheckStreamName)
		if c.Firehose.Packing != PackingPack && c.Firehose.Packing != PackingSingle {
			errs = append(errs, fmt.Errorf("%s=%q: want %q or %q", EnvFirehosePacking, c.Firehose.Packing, PackingPack, PackingSingle))
		}
	case SinkLogs:
		c.Logs = Logs{
			Region:         str(EnvLogsRegion, ""),
			GroupTemplate:  str(EnvLogsGroupTemplate, DefaultLogsGroupTemplate),
			StreamTemplate: str(EnvLogsStreamTemplate, DefaultLogsStreamTemplate),
			RetentionDays:  int32(integer(EnvLogsRetentionDays, DefaultLogsRetentionDays, 1, 3653)),
		}
		if c.Logs.Region == "" {
			missing(EnvLogsRegion)
		}
		optional(EnvLogsRegion, c.Logs.Region, CheckRegion)
		if !validRetentionDays(c.Logs.RetentionDays) {
			errs = append(errs, fmt.Errorf("%s=%d: CloudWatch Logs accepts only %v", EnvLogsRetentionDays, c.Logs.RetentionDays, validRetention))
		}
		check(EnvLogsGroupTemplate, c.Logs.GroupTemplate, CheckGroupTemplate)
		check(EnvLogsStreamTemplate, c.Logs.StreamTemplate, CheckStreamTemplate)
	case SinkStdout:
	default:
		errs = append(errs, fmt.Errorf("unknown sink %q: want %s, %s, %s or %s", sink, SinkS3, SinkFirehose, SinkLogs, SinkStdout))
	}
	inline, file := strings.TrimSpace(getenv(EnvRoutes)), strings.TrimSpace(getenv(EnvRoutesFile))
	switch {
	case inline != "" && file != "":
		errs = append(errs, fmt.Errorf("set %s or %s, not both", EnvRoutes, EnvRoutesFile))
	case inline != "":
		if c.Routes, err = ParseRoutes([]byte(inline), c.RouteDefaults()); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvRoutes, err))
		}
	case file != "":
		data, rerr := os.ReadFile(file)
		if rerr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvRoutesFile, rerr))
		} else if c.Routes, err = ParseRoutes(data, c.RouteDefaults()); err != nil {
			errs = append(errs, fmt.Errorf("%s=%s: %w", EnvRoutesFile, file, err))
		}
	}
	if sink != SinkStdout && c.Quarantine.Bucket == "" {
		missing(EnvQuarantineBucket)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// ParseRoutes parses a route table (routes.Parse) with its targets resolved
// against d, the defaults where it is used, so that two spellings of one
// destination are refused; and checks each logs target's templates as Load
// checks the default ones, and that a group template without {owner} is
// marked sharedGroup. It is the one parser the functions, the stack and the
// CLI share, and reports every problem in one error.
func ParseRoutes(data []byte, d routes.Defaults) (*routes.Table, error) {
	return routes.ParseWith(data, routes.Options{Defaults: d, CheckTarget: checkRouteTarget})
}

// RouteDefaults are the defaults a route target of c's sink resolves
// against; the other sinks' are unknown to this function.
func (c *Config) RouteDefaults() routes.Defaults {
	switch c.Sink {
	case SinkS3:
		return routes.Defaults{S3Prefix: c.S3.Prefix}
	case SinkFirehose:
		return routes.Defaults{FirehoseStream: c.Firehose.Stream}
	case SinkLogs:
		return routes.Defaults{LogsRegion: c.Logs.Region, LogsGroupTemplate: c.Logs.GroupTemplate, LogsStreamTemplate: c.Logs.StreamTemplate}
	}
	return routes.Defaults{}
}

// checkRouteTarget checks a logs target's templates, and that its groups
// (resolved, when the default template is known) keep senders apart.
func checkRouteTarget(t, resolved routes.Target) error {
	if t.Sink != SinkLogs {
		return nil
	}
	var errs []error
	for _, f := range []struct {
		field, tmpl string
		check       func(string) error
	}{{"groupTemplate", t.GroupTemplate, CheckGroupTemplate}, {"streamTemplate", t.StreamTemplate, CheckStreamTemplate}} {
		if f.tmpl == "" {
			continue
		}
		if err := f.check(f.tmpl); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", f.field, f.tmpl, err))
		}
	}
	group, which := resolved.GroupTemplate, "groupTemplate"
	if t.GroupTemplate == "" {
		which = "the default groupTemplate"
	}
	switch {
	case group == "":
		// The default is not known here: the logs function checks it.
	case !strings.Contains(group, PlaceholderOwner) && !t.SharedGroup:
		errs = append(errs, fmt.Errorf("%s %q has no %s, so every sender writes into the same log groups and one sender's events land in another's: "+
			"put %s in it (e.g. %q), or set \"sharedGroup\": true on the target if the senders are meant to share the groups",
			which, group, PlaceholderOwner, PlaceholderOwner, DefaultLogsGroupTemplate))
	case strings.Contains(group, PlaceholderOwner) && t.SharedGroup:
		errs = append(errs, fmt.Errorf("sharedGroup is set, but %s %q has %s, so no sender shares a group: remove sharedGroup", which, group, PlaceholderOwner))
	}
	return errors.Join(errs...)
}

// ForTarget returns the configuration of one route target: c with the
// target's non-default settings (S3 prefix, Firehose stream, Logs region
// and templates) in place of the defaults.
func (c *Config) ForTarget(t routes.Target) *Config {
	out := *c
	if t.Prefix != "" {
		out.S3.Prefix = t.Prefix
	}
	if t.Stream != "" {
		out.Firehose.Stream = t.Stream
	}
	if t.Region != "" {
		out.Logs.Region = t.Region
	}
	if t.GroupTemplate != "" {
		out.Logs.GroupTemplate = t.GroupTemplate
	}
	if t.StreamTemplate != "" {
		out.Logs.StreamTemplate = t.StreamTemplate
	}
	return &out
}

// validLogGroupName applies CloudWatch Logs' rule for log group names.
func validLogGroupName(g string) bool {
	if len(g) == 0 || len(g) > 512 {
		return false
	}
	for i := 0; i < len(g); i++ {
		switch c := g[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '/', c == '.', c == '#':
		default:
			return false
		}
	}
	return true
}

func validRetentionDays(d int32) bool {
	for _, v := range validRetention {
		if v == d {
			return true
		}
	}
	return false
}

// checkTemplate rejects placeholders other than the three known ones, so a
// typo fails the cold start instead of naming groups literally "{ownr}".
func checkTemplate(t string) error {
	rest := t
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return errors.New("unclosed '{'")
		}
		switch p := rest[i : i+j+1]; p {
		case PlaceholderOwner, PlaceholderLogGroup, PlaceholderLogStream:
		default:
			return fmt.Errorf("unknown placeholder %s (want %s, %s or %s)", p, PlaceholderOwner, PlaceholderLogGroup, PlaceholderLogStream)
		}
		rest = rest[i+j+1:]
	}
}

// groupTemplateNames refuses a log-group template whose groups CloudWatch
// Logs could not create: literal characters outside a-z A-Z 0-9 _ - / . #,
// or {logStream}, since stream names hold characters group names cannot
// (Lambda's "[$LATEST]"). Every event would be quarantined.
func groupTemplateNames(t string) error {
	if strings.Contains(t, PlaceholderLogStream) {
		return fmt.Errorf("%s cannot name a log group: log stream names hold characters log group names cannot (Lambda's \"[$LATEST]\"); use %s and %s, and %s in streamTemplate",
			PlaceholderLogStream, PlaceholderOwner, PlaceholderLogGroup, PlaceholderLogStream)
	}
	for _, c := range stripPlaceholders(t) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-/.#", c)) {
			return fmt.Errorf("%q cannot be in a log group name (CloudWatch Logs allows a-z A-Z 0-9 _ - / . #): remove it", c)
		}
	}
	return nil
}

// streamTemplateNames refuses a log-stream template with a literal ':' or
// '*', which CloudWatch Logs does not allow in log stream names.
func streamTemplateNames(t string) error {
	if i := strings.IndexAny(stripPlaceholders(t), ":*"); i >= 0 {
		return fmt.Errorf("%q cannot be in a log stream name (CloudWatch Logs allows any character but ':' and '*'): remove it", stripPlaceholders(t)[i])
	}
	return nil
}

// stripPlaceholders returns a template (checked by checkTemplate) without its placeholders.
func stripPlaceholders(t string) string {
	return strings.NewReplacer(PlaceholderOwner, "", PlaceholderLogGroup, "", PlaceholderLogStream, "").Replace(t)
}

// Expand fills a group or stream template's placeholders.
func Expand(tmpl, owner, logGroup, logStream string) string {
	return strings.NewReplacer(PlaceholderOwner, owner, PlaceholderLogGroup, strings.TrimPrefix(logGroup, "/"), PlaceholderLogStream, logStream).Replace(tmpl)
}

// EnvLambdaMemory is the function's memory size in MB, which Lambda sets
// (and `logfan invoke` as Lambda does); Load derives the default
// decompression cap from it.
const EnvLambdaMemory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"

// MaxDecompressedFor is the decompression cap (LOGFAN_MAX_DECOMPRESSED_BYTES)
// for a function of memoryMB megabytes: an eighth of the memory, at most
// subscription.DefaultMaxDecompressed (64 MiB, from 512 MB up). A payload
// near the cap is held decompressed and decoded while its records are
// built: the live heap peaks at about 2.5 times the cap plus 6 MiB
// (measured, README "Memory and the decompression cap"), so at 128 MB a
// 16 MiB cap peaks near 46 MiB, well under the GOMEMLIMIT of 85 MiB, where
// the 64 MiB cap peaked at 138-146 MiB and the function ran out of memory.
func MaxDecompressedFor(memoryMB int) int64 {
	return max(min(int64(memoryMB)<<20/8, subscription.DefaultMaxDecompressed), MinMaxDecompressed)
}

// FullCapMemoryMB is the smallest memory size whose decompression cap is
// the whole subscription.DefaultMaxDecompressed (512 MB): more memory does
// not raise the cap, and less cuts the batches whose payloads inflate past it.
const FullCapMemoryMB = int(subscription.DefaultMaxDecompressed * 8 >> 20)

// MemoryForDecompressed is the smallest memory size in MB whose
// decompression cap holds bytes of inflated payloads, at most
// FullCapMemoryMB (past it the cap stops growing, so more memory holds no more).
func MemoryForDecompressed(bytes float64) int {
	return min(FullCapMemoryMB, int(math.Ceil(bytes*8/(1<<20))))
}

// MinMaxDecompressed is the smallest decompression cap Load accepts.
const MinMaxDecompressed = 1 << 20

// GoMemLimit is the GOMEMLIMIT value for a function of memoryMB megabytes:
// two thirds of it, leaving the rest to the binary, stacks, the runtime and
// the moments the collector runs behind a fast-allocating invocation.
func GoMemLimit(memoryMB int) string { return strconv.Itoa(memoryMB*2/3) + "MiB" }

// SinkQuarantinePrefix is the quarantine prefix of sink's function under
// the stack's quarantine prefix root (root/sink). The stack sets it as each
// function's LOGFAN_QUARANTINE_PREFIX and grants the function that prefix
// alone, so that one function cannot write entries another sink's redrive
// would replay; logfan redrive reads root/sink/ for that sink.
func SinkQuarantinePrefix(root, sink string) string {
	return strings.Trim(root, "/") + "/" + sink
}
