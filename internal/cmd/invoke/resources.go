package invoke

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/shared/config"
)

// LocalNames maps what a function's resolved environment names onto the
// demo's recipient resources, so that localenv.SetupRecipient creates exactly
// the buckets, Firehose stream, stream and tables the function uses.
func LocalNames(t *Template, env, refs map[string]string) localenv.Names {
	n := localenv.DefaultNames()
	if b := env[config.EnvS3Bucket]; b != "" {
		n.DataBucket = b
	}
	if b := env[config.EnvQuarantineBucket]; b != "" {
		// The stack's event source mappings share the quarantine bucket as their on-failure destination.
		n.QuarantineBucket, n.OnFailureBucket = b, b
	}
	if s := env[config.EnvFirehoseStream]; s != "" {
		n.FirehoseStream = s
		if b := t.firehoseBucket(refs); b != "" {
			n.FirehoseBucket = b
		}
	}
	// The ledger's table, when the function has one (dedupe), and the
	// sender-health table, when it is the function that writes it.
	n.LedgerTable = env[config.EnvLedgerTable]
	n.HealthTable = env[config.EnvHealthTable]
	for id, typ := range refs {
		if typ == "AWS::Kinesis::Stream" {
			n.Stream, _ = t.PhysicalName(id)
		}
	}
	if n.FirehoseBucket == localenv.DefaultNames().FirehoseBucket {
		n.FirehoseBucket = strings.ToLower(t.StackName) + "-firehose-data"
	}
	return n
}

// firehoseBucket is the local name of the bucket the template's Firehose
// stream (one the environment names, by a Ref or by its fixed name) delivers to, or "".
func (t *Template) firehoseBucket(refs map[string]string) string {
	for id, r := range t.Resources {
		if r.Type != "AWS::KinesisFirehose::DeliveryStream" {
			continue
		}
		var p struct {
			Dest struct {
				BucketARN any `json:"BucketARN"`
			} `json:"ExtendedS3DestinationConfiguration"`
		}
		if json.Unmarshal(r.Properties, &p) != nil || p.Dest.BucketARN == nil {
			continue
		}
		if _, named := refs[id]; !named {
			continue
		}
		if arn, err := t.Resolve(p.Dest.BucketARN, map[string]string{}); err == nil {
			return strings.TrimPrefix(arn, "arn:aws:s3:::")
		}
	}
	return ""
}

// CreateResources creates names' resources on the emulator the SDK's
// environment points at, through the demo's own setup.
func CreateResources(ctx context.Context, names localenv.Names) error {
	c, err := localenv.NewClients(ctx)
	if err != nil {
		return err
	}
	_, err = localenv.SetupRecipient(ctx, c, names)
	return err
}
