package main

// Prices in US East (N. Virginia), us-east-1, in USD, as published on the
// AWS pricing pages below, read 2026-12-04 (through stored copies of the
// pages; check them before budgeting on these figures). First pricing tier
// only: volume tiers lower Lambda, Firehose and CloudWatch Logs at scale.
const (
	// LambdaArmGBSecond is Lambda duration on arm64 (Graviton), first 7.5
	// billion GB-seconds a month. https://aws.amazon.com/lambda/pricing/
	LambdaArmGBSecond = 0.0000133334
	// LambdaPerRequest is Lambda's request charge ($0.20 per million).
	// https://aws.amazon.com/lambda/pricing/
	LambdaPerRequest = 0.20 / 1e6

	// KinesisOnDemandPerGBIn is Kinesis Data Streams on-demand data ingested
	// per GB (each record rounded up to 1 KB; the per-stream-hour and
	// retrieval charges are left out).
	// https://aws.amazon.com/kinesis/data-streams/pricing/
	KinesisOnDemandPerGBIn = 0.08
	// KinesisShardHour is a provisioned shard-hour (1 MiB/s in per shard).
	// https://aws.amazon.com/kinesis/data-streams/pricing/
	KinesisShardHour = 0.015
	// KinesisPerPutUnit is a provisioned PUT payload unit (25 KB of a
	// record), $0.014 per million. https://aws.amazon.com/kinesis/data-streams/pricing/
	KinesisPerPutUnit = 0.014 / 1e6

	// FirehosePerGB is Amazon Data Firehose ingestion (Direct PUT), first
	// 500 TB a month, per GB of records each rounded up to 5 KB.
	// https://aws.amazon.com/firehose/pricing/
	FirehosePerGB = 0.029

	// LogsIngestPerGB is CloudWatch Logs ingestion into the Standard log
	// class ("Collect (Data Ingestion)"), per GB.
	// https://aws.amazon.com/cloudwatch/pricing/
	LogsIngestPerGB = 0.50
)

// Lambda facts the arithmetic relies on.
const (
	// MBPerVCPU is the memory size at which a function gets one full vCPU:
	// CPU share grows linearly with memory, "at 1,769 MB, a function has the
	// equivalent of one vCPU". https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
	MBPerVCPU = 1769
	// MaxInvocationBytes is Lambda's synchronous invocation payload limit,
	// which a full Kinesis batch approaches (6 MB).
	MaxInvocationBytes = 6 << 20
)

// Units: AWS bills GB as 2^30 bytes; a TB of log JSON here is 10^12 bytes.
const (
	gb = 1 << 30
	tb = 1e12
)
