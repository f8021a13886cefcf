package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/logfan/logfan/shared/routes"
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
// (measured, docs/performance.md, "Memory and the decompression cap"), so at 128 MB a
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
