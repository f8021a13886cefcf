package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/cli/usage"
	"github.com/logfan/logfan/internal/ops/capacity"
)

func run(args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	err = Run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestUsageErrors: every bad input is refused before any work as a usage
// error (exit 2), naming the cause.
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "-daily is required"},
		{[]string{"-daily", "0"}, "positive size"},
		{[]string{"-daily", "1XB"}, "positive size"},
		{[]string{"-daily", "1TB", "extra"}, "unexpected argument"},
		{[]string{"-daily", "1TB", "-bogus"}, "not defined: -bogus"},
		{[]string{"-daily", "1TB", "-peak", "x"}, "invalid value"},
		{[]string{"-daily", "1TB", "-peak", "0.5"}, "peak factor"},
		{[]string{"-daily", "1TB", "-sink", "s3,kafka"}, `unknown sink "kafka"`},
		{[]string{"-daily", "1TB", "-sink", "s3,s3"}, "named twice"},
		{[]string{"-daily", "1TB", "-share", "firehose"}, "not sink=share"},
		{[]string{"-daily", "1TB", "-share", "firehose=lots"}, "not a number"},
		{[]string{"-daily", "1TB", "-sink", "s3", "-share", "logs=0.1"}, "not among the enabled sinks"},
		{[]string{"-daily", "1TB", "-share", "logs=-1"}, "share of logs"},
		{[]string{"-daily", "1TB", "-event-bytes", "50"}, "besides its message"},
		{[]string{"-daily", "1TB", "-events-per-record", "50000"}, "lower the events per record"},
		{[]string{"-daily", "1TB", "-region", "mars"}, "region"},
	} {
		out, _, err := run(tt.args...)
		if err == nil || !usage.Is(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v (usage error: %v), want a usage error naming %q", tt.args, err, usage.Is(err), tt.want)
		}
		if out != "" {
			t.Errorf("%q printed a plan despite the error:\n%s", tt.args, out)
		}
	}
	if _, _, err := run("-h"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp (exit 0)", err)
	}
}

// TestText1TB prints the 1 TB plan of docs/performance.md: the figures come from
// internal/ops/capacity's tests (Test1TBADay); here they must reach the page.
func TestText1TB(t *testing.T) {
	out, _, err := run("-daily", "1TB", "-share", "s3=1,firehose=0.3,logs=0.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"logfan plan: 1 TB of log JSON a day (peak 3x), 319-byte events, gzip ratio 3.71",
		"Stream: provisioned, 17 shards, standard consumers, $191.49 a month",
		"writes need 12 shards at the peak",
		"ruled out: 3 standard consumers read 2.23 MiB/s",
		"cheaper at this volume: provisioned",
		"batchSize 54",
		"4 streams of 5 MiB/s",
		"PutLogEvents  11 calls/s of the account's 5,000/s",
		"shard-hours (17 shards)",
		"CDK_ARGS='-c streamMode=provisioned -c shardCount=17 -c enhancedFanOut=false -c batchSize=54 -c batchWindowSeconds=5 -c parallelizationFactor=1 -c functionMemoryMB=192'",
		"Firehose needs 4 streams",
		"read " + capacity.PricesRead,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestJSON: -json prints the same plan, and its bill adds up to its total.
func TestJSON(t *testing.T) {
	out, _, err := run("-daily", "10TB", "-share", "s3=1,firehose=0.3,logs=0.1", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var p capacity.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if o := p.Stream.Options[p.Stream.Chosen]; o.Mode != capacity.Provisioned || o.Shards != 168 {
		t.Errorf("chose %s with %d shards, want provisioned with 168", o.Mode, o.Shards)
	}
	var sum float64
	for _, l := range p.Bill {
		sum += l.USD
	}
	if math.Abs(sum-p.Total) > 1e-6 || p.Total <= 0 {
		t.Errorf("bill sums to %v, total %v", sum, p.Total)
	}
	if p.Input.DailyBytes != 10e12 || p.Input.Shares[capacity.SinkFirehose] != 0.3 || len(p.Warnings) == 0 || len(p.Context) == 0 {
		t.Errorf("plan %+v", p)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]float64{"10GB": 1e10, "1TB": 1e12, "2.5 tb": 2.5e12, "500": 5e11, "1PB": 1e15, "0.5gb": 5e8} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-1TB", "1 XB", "NaN", "Inf"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{money(1564.409), "1,564.41"}, {money(0.05), "0.05"}, {money(1234567.8), "1,234,567.80"},
		{num(3.4), "3.4"}, {num(108779.2), "108,779"}, {num(95290309), "95.3 M"}, {num(3.8e10), "38 G"},
		{size(86130.6), "86.1 KB"}, {size(1e12), "1 TB"}, {size(347222.2), "347 KB"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}
