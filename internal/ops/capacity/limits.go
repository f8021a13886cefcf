package capacity

// Units. AWS bills GB as 2^30 bytes and throughput limits are in MiB; a
// GB (or TB) of log JSON in logfan's own figures is 10^9 (10^12) bytes.
const (
	KiB = 1 << 10
	MiB = 1 << 20
	GiB = 1 << 30
	// MonthHours is the month AWS prices with (730 hours).
	MonthHours = 730
	// MonthSeconds is MonthHours in seconds.
	MonthSeconds = MonthHours * 3600
	// DaySeconds is a day in seconds.
	DaySeconds = 86400
)

// Kinesis Data Streams limits, from
// https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
// and ../shared/docs/aws-limits.md.
const (
	// ShardWriteBytes is a shard's write limit per second (1 MiB).
	ShardWriteBytes = 1 * MiB
	// ShardWriteRecords is a shard's write limit in records per second.
	ShardWriteRecords = 1000
	// ShardReadBytes is a shard's read limit per second, shared by every
	// standard consumer (each enhanced fan-out consumer gets its own).
	ShardReadBytes = 2 * MiB
	// MaxFanOutConsumers is how many consumers a stream can register.
	MaxFanOutConsumers = 20
	// OnDemandRoundBytes is what on-demand rounds each record up to.
	OnDemandRoundBytes = 1 * KiB
	// PutUnitBytes is the provisioned PUT payload unit (25 KB).
	PutUnitBytes = 25 * KiB
	// MaxRecordBytes is the largest record CloudWatch Logs puts on the stream (1 MiB by default).
	MaxRecordBytes = 1 * MiB
)

// Lambda limits, from aws-limits.md and
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html.
const (
	// MBPerVCPU is the memory size at which a function gets one full vCPU:
	// CPU share grows linearly with memory.
	MBPerVCPU = 1769
	// MaxInvocationBytes is the synchronous invocation payload limit a Kinesis batch stops at.
	MaxInvocationBytes = 6 * MiB
	// MaxBatchSize is the largest Kinesis event source mapping batch size.
	MaxBatchSize = 10000
	// MaxParallelization is the largest ParallelizationFactor.
	MaxParallelization = 10
	// AccountConcurrency is an account's default concurrent executions per region.
	AccountConcurrency = 1000
	// MinMemoryMB is the smallest memory size a function can have.
	MinMemoryMB = 128
	// MaxMemoryMB is the largest memory size a function can have.
	MaxMemoryMB = 10240
)

// Headroom is how much faster than a shard's peak one instance must
// process data (CPU at its memory's vCPU share), so that it keeps up and
// catches up after a stall.
const Headroom = 2

// Near is the share of a limit or quota at which the plan warns.
const Near = 0.8

// Firehose Direct PUT quotas per Firehose stream, combined for PutRecord and
// PutRecordBatch (https://docs.aws.amazon.com/firehose/latest/dev/limits.html):
// the three largest regions, and every other region. They scale together on
// request.
var (
	FirehoseLargeQuota = FirehoseQuota{Bytes: 5 * MiB, Requests: 2000, Records: 500000}
	FirehoseOtherQuota = FirehoseQuota{Bytes: 1 * MiB, Requests: 1000, Records: 100000}
)

// FirehoseQuota is a Firehose stream's Direct PUT quota, per second.
type FirehoseQuota struct {
	Bytes    float64 `json:"bytes"`
	Requests float64 `json:"requests"`
	Records  float64 `json:"records"`
}

// Firehose PutRecordBatch limits (aws-limits.md).
const (
	FirehoseBatchRecords = 500
	FirehoseBatchBytes   = 4 * MiB
	FirehoseRecordBytes  = 1000 * KiB
	// FirehoseBillUnit is what Firehose rounds each record up to when billing.
	FirehoseBillUnit = 5 * KiB
)

// CloudWatch Logs PutLogEvents limits (aws-limits.md; the quota from
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html).
const (
	// PutLogEventsQuota is the account's PutLogEvents calls per second in a
	// region, shared with everything else the account logs there; adjustable.
	PutLogEventsQuota = 5000
	// LogsBatchBytes is a PutLogEvents call's size limit: messages plus LogsEventOverhead each.
	LogsBatchBytes = 1048576
	// LogsBatchEvents is a PutLogEvents call's event limit.
	LogsBatchEvents = 10000
	// LogsEventOverhead is what CloudWatch Logs adds to each message, in the
	// batch size and in the ingested bytes it bills.
	LogsEventOverhead = 26
)

// S3PutsPerPrefix is S3's PUT rate per partitioned prefix per second.
const S3PutsPerPrefix = 3500

// Health table (issue 20, shared/health): one write per heartbeat and
// sender, and each log group's item written by each instance when first
// seen on a day and then at most once an hour.
const (
	// HeartbeatsPerHour is the sender stack's default heartbeat rate (every 5 minutes).
	HeartbeatsPerHour = 12
	// LogGroupWritesPerHour is how often one instance writes a log group's item.
	LogGroupWritesPerHour = 1
)

// largeRegions have the larger Firehose quota, the on-demand stream's 10
// GB/s ceiling and 20,000 shards per account.
var largeRegions = map[string]bool{"us-east-1": true, "us-west-2": true, "eu-west-1": true}

// QuotaFor returns the Firehose stream quota in region.
func QuotaFor(region string) FirehoseQuota {
	if largeRegions[region] {
		return FirehoseLargeQuota
	}
	return FirehoseOtherQuota
}

// ShardQuota is the account's default provisioned shard quota in region
// (1,000 or 6,000 outside the three largest regions: the lower one).
func ShardQuota(region string) int {
	if largeRegions[region] {
		return 20000
	}
	return 1000
}

// OnDemandMaxWriteBytes is how far an on-demand stream scales its writes in
// region by default (10 GB/s in the largest regions, 200 MB/s elsewhere).
func OnDemandMaxWriteBytes(region string) float64 {
	if largeRegions[region] {
		return 10e9
	}
	return 200e6
}
