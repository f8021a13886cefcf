package demo

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/logfan/logfan/internal/devkit/localenv"

	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/internal/ops/anysink"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/quarantine"
)

// Target is one sink the demo runs: how to build its consumer handler and
// how to read back the messages that landed.
type Target struct {
	// Sink is the sink's name (config.SinkS3, ...).
	Sink string
	// NewHandler builds the handler, the way a function's cold start does.
	NewHandler func(ctx context.Context, d app.Deps) (poller.Invoker, error)
	// ReadBack returns the message of every event that landed, duplicates included.
	ReadBack func(ctx context.Context) ([]string, error)
	// Quarantined, if set, returns the messages of the events the sink
	// quarantined; without it the handlers' counts stand in.
	Quarantined func(ctx context.Context) ([]string, error)
	// Attributed, if set, returns every landed event of run with the owner
	// (and region, where the sink keeps it) it was filed under: a hub run
	// reconciles them per source.
	Attributed func(ctx context.Context, run string) ([]Landed, error)
	// SetHubAccount, if set, gives the handlers built after it the
	// recipient's account, as the stack does in hub mode (LOGFAN_HUB_ACCOUNT);
	// AWSTargets' take it from the Names' environment instead.
	SetHubAccount func(account string)
}

// AWSTargets are the three real sinks, configured as the stack configures
// its functions (config.Load over the same LOGFAN_* variables) and read back
// from the bucket, the Firehose destination and the other region's groups.
func AWSTargets(c *localenv.Clients, n localenv.Names, sinks []string) ([]Target, error) {
	var out []Target
	for _, s := range sinks {
		env := n.Env(s)
		cfg, err := config.Load(s, func(k string) string { return env[k] })
		if err != nil {
			return nil, err
		}
		t := Target{Sink: s, NewHandler: func(ctx context.Context, d app.Deps) (poller.Invoker, error) {
			return anysink.NewHandler(ctx, cfg, d, nil)
		}, Quarantined: func(ctx context.Context) ([]string, error) {
			return quarantinedMessages(ctx, c, cfg)
		}}
		switch s {
		case config.SinkS3:
			t.ReadBack = func(ctx context.Context) ([]string, error) {
				return s3Messages(ctx, c, cfg.S3.Bucket, cfg.S3.Prefix+"/")
			}
			t.Attributed = func(ctx context.Context, run string) ([]Landed, error) {
				return recordsLanded(ctx, c, run, cfg.S3.Bucket, cfg.S3.Prefix+"/")
			}
		case config.SinkFirehose:
			t.ReadBack = func(ctx context.Context) ([]string, error) {
				return s3Messages(ctx, c, n.FirehoseBucket, localenv.FirehosePrefix+"/")
			}
			t.Attributed = func(ctx context.Context, run string) ([]Landed, error) {
				return recordsLanded(ctx, c, run, n.FirehoseBucket, localenv.FirehosePrefix+"/")
			}
		case config.SinkLogs:
			// Every group the sink creates starts with the template's fixed part ("/logfan/").
			prefix, _, _ := strings.Cut(cfg.Logs.GroupTemplate, "{")
			t.ReadBack = func(ctx context.Context) ([]string, error) {
				evs, err := readback.LogEvents(ctx, c.LogsTarget, prefix)
				if err != nil {
					return nil, fmt.Errorf("read back %s groups in %s: %w", prefix, localenv.LogsRegion, err)
				}
				msgs := make([]string, len(evs))
				for i, e := range evs {
					msgs[i] = e.Message
				}
				return msgs, nil
			}
			// The default template files each event under /logfan/{owner}/...:
			// the owner is the group name's second segment.
			t.Attributed = func(ctx context.Context, run string) ([]Landed, error) {
				evs, err := readback.LogEvents(ctx, c.LogsTarget, prefix)
				if err != nil {
					return nil, fmt.Errorf("read back %s groups in %s: %w", prefix, localenv.LogsRegion, err)
				}
				out := make([]Landed, len(evs))
				for i, e := range evs {
					owner, _, _ := strings.Cut(strings.TrimPrefix(e.Group, prefix), "/")
					out[i] = Landed{N: -1, Owner: owner}
					if got, n, ok := parseKey(e.Message); ok && got == run {
						out[i].N = n
					}
				}
				return out, nil
			}
		case config.SinkStdout:
			t = StdoutTarget()
			t.SetHubAccount(cfg.HubAccount)
		default:
			return nil, fmt.Errorf("unknown sink %q: want %s, %s, %s or %s", s, config.SinkS3, config.SinkFirehose, config.SinkLogs, config.SinkStdout)
		}
		out = append(out, t)
	}
	return out, nil
}

// quarantinedMessages reads the events cfg's sink quarantined back from
// the quarantine bucket (each entry's data is the event's NDJSON line).
func quarantinedMessages(ctx context.Context, c *localenv.Clients, cfg *config.Config) ([]string, error) {
	items, err := quarantined.List(ctx, c.S3, cfg.Quarantine.Bucket, cfg.Quarantine.Prefix+"/event/")
	if err != nil {
		return nil, fmt.Errorf("read back the quarantine: %w", err)
	}
	var msgs []string
	for _, it := range items {
		if it.Entry.Kind != quarantine.KindEvent || it.Entry.Sink != cfg.Sink {
			continue
		}
		r, err := readback.ParseLine(it.Entry.Data)
		if err != nil {
			return nil, fmt.Errorf("quarantined event %s: %w", it.Key, err)
		}
		msgs = append(msgs, r.Message)
	}
	return msgs, nil
}

func s3Messages(ctx context.Context, c *localenv.Clients, bucket, prefix string) ([]string, error) {
	recs, _, err := readback.Records(ctx, c.S3, bucket, prefix)
	if err != nil {
		return nil, fmt.Errorf("read back s3://%s/%s: %w", bucket, prefix, err)
	}
	msgs := make([]string, len(recs))
	for i, r := range recs {
		msgs[i] = r.Message
	}
	return msgs, nil
}

// StdoutTarget runs the stdout sink into memory and reads its NDJSON back:
// the whole demo (emulator, senders, subscription payloads, pollers,
// reconciliation) without the AWS sinks.
func StdoutTarget() Target {
	// One buffer per handler: each handler's stdout sink flushes in chunks
	// that need not end on a line, so handlers must not share a writer.
	var mu sync.Mutex
	var bufs []*bytes.Buffer
	var hub string
	return Target{
		Sink:          config.SinkStdout,
		SetHubAccount: func(account string) { mu.Lock(); hub = account; mu.Unlock() },
		NewHandler: func(ctx context.Context, d app.Deps) (poller.Invoker, error) {
			buf := &bytes.Buffer{}
			mu.Lock()
			bufs = append(bufs, buf)
			cfg := &config.Config{Sink: config.SinkStdout, HubAccount: hub}
			mu.Unlock()
			if d.Quarantine == nil {
				d.Quarantine = &quarantine.Memory{}
			}
			return anysink.NewHandler(ctx, cfg, d, buf)
		},
		ReadBack: func(context.Context) ([]string, error) {
			mu.Lock()
			defer mu.Unlock()
			var msgs []string
			for _, b := range bufs {
				recs, err := readback.Decode(bytes.NewReader(b.Bytes()))
				if err != nil {
					return nil, fmt.Errorf("read back stdout records: %w", err)
				}
				for _, r := range recs {
					msgs = append(msgs, r.Message)
				}
			}
			return msgs, nil
		},
		Attributed: func(_ context.Context, run string) ([]Landed, error) {
			mu.Lock()
			defer mu.Unlock()
			var out []Landed
			for _, b := range bufs {
				recs, err := readback.Decode(bytes.NewReader(b.Bytes()))
				if err != nil {
					return nil, fmt.Errorf("read back stdout records: %w", err)
				}
				out = append(out, landedOf(run, recs)...)
			}
			return out, nil
		},
	}
}
