package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/logfan/logfan/shared/awsclient"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/quarantine/s3quarantine"
	"github.com/logfan/logfan/shared/sink"
	"github.com/logfan/logfan/shared/sink/firehosesink"
	"github.com/logfan/logfan/shared/sink/logssink"
	"github.com/logfan/logfan/shared/sink/s3sink"
)

// clients loads the SDK configuration once and the quarantine every sink
// shares (unless the caller supplied one).
func clients(ctx context.Context, cfg *config.Config, d Deps) (aws.Config, quarantine.Quarantine, error) {
	awsCfg, err := awsclient.Load(ctx, "")
	if err != nil {
		return aws.Config{}, nil, err
	}
	if d.HTTPClient != nil {
		awsCfg.HTTPClient = d.HTTPClient
	}
	q := d.Quarantine
	if q == nil {
		var opts []s3quarantine.Option
		if cfg.S3.KMSKeyID != "" {
			opts = append(opts, s3quarantine.WithKMSKey(cfg.S3.KMSKeyID))
		}
		q = s3quarantine.New(awsclient.S3(awsCfg), cfg.Quarantine, opts...)
	}
	return awsCfg, q, nil
}

func newS3(ctx context.Context, cfg *config.Config, d Deps) (sink.Sink, quarantine.Quarantine, error) {
	awsCfg, q, err := clients(ctx, cfg, d)
	if err != nil {
		return nil, nil, err
	}
	return s3sink.New(awsclient.S3(awsCfg), cfg.S3, q), q, nil
}

func newFirehose(ctx context.Context, cfg *config.Config, d Deps) (sink.Sink, quarantine.Quarantine, error) {
	awsCfg, q, err := clients(ctx, cfg, d)
	if err != nil {
		return nil, nil, err
	}
	return firehosesink.New(firehose.NewFromConfig(awsCfg), cfg.Firehose, q), q, nil
}

func newLogs(ctx context.Context, cfg *config.Config, d Deps) (sink.Sink, quarantine.Quarantine, error) {
	awsCfg, q, err := clients(ctx, cfg, d)
	if err != nil {
		return nil, nil, err
	}
	// The target log groups live in another region; the quarantine stays in the function's own.
	client := cloudwatchlogs.NewFromConfig(awsCfg, func(o *cloudwatchlogs.Options) { o.Region = cfg.Logs.Region })
	return logssink.New(client, cfg.Logs, q), q, nil
}
