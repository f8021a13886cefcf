package main

import (
	"bytes"
	"context"
	"testing"
)

// TestResendUsageExitsTwo: logfan resend refuses a bad flag before any work, exit 2.
func TestResendUsageExitsTwo(t *testing.T) {
	for _, args := range [][]string{
		{"-to", "kinesis:x", "-bucket", "b", "-progress", "s3://q/p"},
		{"-to", "firehose:siem", "-bucket", "b", "-progress", "s3://q/p", "-since", "yesterday"},
		{"-routes", "deployed", "-to", "firehose:siem"},
	} {
		err := commands["resend"].run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if code := exitCode(err); err == nil || code != 2 {
			t.Errorf("%q: %v, exit %d; want exit 2", args, err, code)
		}
	}
}

// TestBackfillUsageExitsTwo: logfan backfill refuses bad flags before any AWS call, exit 2.
func TestBackfillUsageExitsTwo(t *testing.T) {
	for _, args := range [][]string{
		{"-stream", "arn:aws:kinesis:us-east-1:111111111111:stream/s"},
		{"-log-group", "/a", "-stream", "not-an-arn"},
		{"-log-group", "/a?", "-stream", "arn:aws:kinesis:us-east-1:111111111111:stream/s"},
		{"-log-group", "/a", "-stream", "arn:aws:kinesis:us-east-1:111111111111:stream/s", "-max-rps", "10"},
		{"-log-group", "/a", "-stream", "arn:aws:kinesis:us-east-1:111111111111:stream/s", "-external-id", "x"},
	} {
		err := commands["backfill"].run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{})
		if code := exitCode(err); err == nil || code != 2 {
			t.Errorf("%q: %v, exit %d; want exit 2", args, err, code)
		}
	}
}
