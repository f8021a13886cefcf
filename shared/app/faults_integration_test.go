package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/tools/demo"
	"github.com/logfan/logfan/internal/tools/quarantined"
	"github.com/logfan/logfan/internal/tools/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/sink/logssink"
)

// chaos fails a share (rate) of requests the way AWS does under stress:
// throttling, 5xx and hung connections.
type chaos struct {
	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64
	injected map[string]int
}

func (c *chaos) setRate(r float64) {
	c.mu.Lock()
	c.rate = r
	c.mu.Unlock()
}

func (c *chaos) inject(req *http.Request, _ []byte, _ int) (*http.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rng.Float64() >= c.rate {
		return nil, nil
	}
	jsonAPI := faults.Target(req) != "" // Firehose and Logs speak JSON; S3 speaks XML.
	switch p := c.rng.Float64(); {
	case p < 0.55:
		c.injected["throttle"]++
		if jsonAPI {
			return faults.JSONError(400, "ThrottlingException", "Rate exceeded"), nil
		}
		return faults.XMLError(503, "SlowDown", "Please reduce your request rate."), nil
	case p < 0.92:
		c.injected["5xx"]++
		if jsonAPI {
			return faults.JSONError(500, "ServiceUnavailableException", "injected"), nil
		}
		return faults.XMLError(500, "InternalError", "injected"), nil
	default:
		c.injected["hang"]++
		c.mu.Unlock()
		defer c.mu.Lock()
		return faults.Hang(req)
	}
}

// suffix is the event Lambda sends when it retries from seq.
func suffix(ev events.KinesisEvent, seq string) events.KinesisEvent {
	for i, r := range ev.Records {
		if r.Kinesis.SequenceNumber == seq {
			return events.KinesisEvent{Records: ev.Records[i:]}
		}
	}
	panic("sequence number not in the batch: " + seq)
}

// TestFaultsLoseNothing drives each real handler through injected faults the
// way Lambda does: invoke, and while batchItemFailures names a record,
// re-invoke from it. Then it counts: every event landed at least once.
func TestFaultsLoseNothing(t *testing.T) {
	emutest.Require(t, srv)
	ctx := context.Background()
	readers, err := demo.NewClients(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// 12 records of 150 current events from three senders, and one poison record.
	g := eventgen.New(99)
	now := time.Now().Add(-time.Hour)
	var datas [][]byte
	want := map[string]string{} // event ID -> message
	for i := range 12 {
		src := eventgen.Source{Owner: fmt.Sprintf("%012d", 111111111111*(1+i%3)), LogGroup: fmt.Sprintf("/app/svc-%d", i%4), LogStream: fmt.Sprintf("s-%d", i%2), Kind: eventgen.KindApp}
		m := g.Message(src, 150, now.Add(time.Duration(i)*time.Second), time.Millisecond, 0)
		for _, e := range m.LogEvents {
			want[e.ID] = e.Message
		}
		datas = append(datas, eventgen.MustPayload(m))
		if i == 5 {
			datas = append(datas, []byte("poison: not gzip"))
		}
	}
	batch := eventgen.KinesisEvent(eventgen.Stream{}, datas)

	for _, sinkName := range []string{config.SinkS3, config.SinkFirehose, config.SinkLogs} {
		t.Run(sinkName, func(t *testing.T) {
			names := demo.DefaultNames().WithSuffix("-faults-" + sinkName)
			ch := &chaos{rng: rand.New(rand.NewPCG(7, uint64(len(sinkName)))), injected: map[string]int{}}
			h := newHandler(t, readers, names, sinkName, app.Deps{
				Logger:     slog.New(slog.DiscardHandler),
				HTTPClient: &http.Client{Transport: &faults.Transport{Inject: ch.inject}},
			})

			ev, retries := batch, 0
			for attempt := 1; ; attempt++ {
				switch attempt {
				case 1:
					ch.setRate(1) // an outage: the sink retries until its deadline
				case 2:
					ch.setRate(0.3) // a degraded service
				case 5:
					ch.setRate(0) // the cause is fixed; Lambda's next retries succeed
				}
				if attempt > 12 {
					t.Fatalf("still failing after %d invocations", attempt-1)
				}
				payload, _ := json.Marshal(ev)
				ictx, cancel := context.WithTimeout(ctx, 8*time.Second)
				out, err := lambda.NewHandler(h).Invoke(ictx, payload)
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				var resp events.KinesisEventResponse
				if err := json.Unmarshal(out, &resp); err != nil {
					t.Fatal(err)
				}
				if len(resp.BatchItemFailures) == 0 {
					break
				}
				if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier == "" {
					t.Fatalf("batchItemFailures %+v: want exactly one sequence number", resp.BatchItemFailures)
				}
				retries++
				ev = suffix(ev, resp.BatchItemFailures[0].ItemIdentifier)
			}
			ch.mu.Lock()
			injected := fmt.Sprint(ch.injected)
			ch.mu.Unlock()
			if retries == 0 || ch.injected["throttle"]+ch.injected["5xx"] == 0 {
				t.Fatalf("the faults never forced a retry (injected %s): the test proves nothing", injected)
			}

			// Count what landed.
			got := map[string]int{}
			switch sinkName {
			case config.SinkS3, config.SinkFirehose:
				bucket, prefix := names.DataBucket, config.DefaultS3Prefix+"/"
				if sinkName == config.SinkFirehose {
					bucket, prefix = names.FirehoseBucket, demo.FirehosePrefix+"/"
				}
				recs, _, err := readback.Records(ctx, readers.S3, bucket, prefix)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if want[r.ID] != r.Message {
						t.Fatalf("event %s landed with a different message", r.ID)
					}
					got[r.ID]++
				}
			case config.SinkLogs:
				evs, err := logssink.ReadAll(ctx, readers.LogsTarget, "/logfan/")
				if err != nil {
					t.Fatal(err)
				}
				byMsg := map[string]string{}
				for id, m := range want {
					byMsg[m] = id
				}
				for _, e := range evs {
					if id, ok := byMsg[e.Message]; ok {
						got[id]++
					}
				}
			}
			lost, dups := 0, 0
			for id := range want {
				switch n := got[id]; {
				case n == 0:
					lost++
				case n > 1:
					dups += n - 1
				}
			}
			items, err := quarantined.List(ctx, readers.S3, names.QuarantineBucket, config.DefaultQuarantinePrefix+"/")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d events, %d invocations, injected %s; lost %d, duplicates %d, quarantined %d", sinkName, len(want), retries+1, injected, lost, dups, len(items))
			if lost != 0 {
				t.Fatalf("%d of %d events lost", lost, len(want))
			}
			if len(items) != 1 || !strings.Contains(items[0].Entry.Reason, "not gzip") {
				t.Fatalf("quarantine holds %d items, want the poison record", len(items))
			}
		})
	}
}
