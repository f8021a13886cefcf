package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/quarantined"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
)

// maxDuplicatesPercent bounds the duplicates the fault schedule may leave
// with the ledger on (issue: "duplicates <= 1% of events").
const maxDuplicatesPercent = 1

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
// re-invoke from it. Then it counts: every event landed at least once, and
// with the ledger (package ledger, on as the stack deploys it) at most
// maxDuplicates of them twice. With the ledger unreachable the handler falls
// back to at least once: duplicates, still nothing lost.
func TestFaultsLoseNothing(t *testing.T) {
	readers := emutest.Clients(t, srv)
	ctx := context.Background()

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
	batch := invocation.NewKinesisEvent(invocation.Stream{}, datas)

	for _, tc := range []struct {
		sink       string
		ledgerDown bool // every ledger call fails
	}{{config.SinkS3, false}, {config.SinkFirehose, false}, {config.SinkLogs, false}, {config.SinkLogs, true}} {
		sinkName, name := tc.sink, tc.sink
		if tc.ledgerDown {
			name += "-ledger-down"
		}
		t.Run(name, func(t *testing.T) {
			names := localenv.DefaultNames().WithSuffix("-faults-" + name)
			ch := faults.NewChaos(7, uint64(len(sinkName)), 0)
			inject := ch.Inject
			if tc.ledgerDown {
				inject = func(req *http.Request, body []byte, call int) (*http.Response, error) {
					if strings.HasPrefix(faults.Target(req), "DynamoDB_") {
						return faults.JSONError(500, "InternalServerError", "injected: the ledger is down"), nil
					}
					return ch.Inject(req, body, call)
				}
			}
			var ledgerErrs int
			h := newHandler(t, readers, names, sinkName, app.Deps{
				Logger:     slog.New(slog.DiscardHandler),
				HTTPClient: &http.Client{Transport: &faults.Transport{Inject: inject}},
				OnSummary: func(s consumer.Summary) {
					if s.LedgerErr != "" {
						ledgerErrs++
					}
				},
			})

			ev, retries := batch, 0
			for attempt := 1; ; attempt++ {
				switch attempt {
				case 1:
					ch.SetRate(1) // an outage: the sink retries until its deadline
				case 2:
					ch.SetRate(0.3) // a degraded service
				case 5:
					ch.SetRate(0) // the cause is fixed; Lambda's next retries succeed
				}
				if attempt > 12 {
					t.Fatalf("still failing after %d invocations", attempt-1)
				}
				failures := invokeEvent(t, h, ev, 8*time.Second)
				if len(failures) == 0 {
					break
				}
				if len(failures) != 1 || failures[0].ItemIdentifier == "" {
					t.Fatalf("batchItemFailures %+v: want exactly one sequence number", failures)
				}
				retries++
				ev = suffix(ev, failures[0].ItemIdentifier)
			}
			inj := ch.Injected()
			injected := fmt.Sprint(inj)
			if retries == 0 || inj["throttle"]+inj["5xx"] == 0 {
				t.Fatalf("the faults never forced a retry (injected %s): the test proves nothing", injected)
			}

			// Count what landed.
			got := map[string]int{}
			switch sinkName {
			case config.SinkS3, config.SinkFirehose:
				bucket, prefix := names.DataBucket, config.DefaultS3Prefix+"/"
				if sinkName == config.SinkFirehose {
					bucket, prefix = names.FirehoseBucket, localenv.FirehosePrefix+"/"
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
				evs, err := readback.LogEvents(ctx, readers.LogsTarget, "/logfan/")
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
			lost, dups := lostAndDuplicates(want, got)
			items, err := quarantined.List(ctx, readers.S3, names.QuarantineBucket, config.DefaultQuarantinePrefix+"/")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d events, %d invocations, injected %s; lost %d, duplicates %d, quarantined %d, invocations with a ledger error %d", name, len(want), retries+1, injected, lost, dups, len(items), ledgerErrs)
			if lost != 0 {
				t.Fatalf("%d of %d events lost", lost, len(want))
			}
			switch {
			case tc.ledgerDown && ledgerErrs == 0:
				t.Fatal("the ledger never failed: the test proves nothing")
			case !tc.ledgerDown && dups > len(want)*maxDuplicatesPercent/100:
				t.Fatalf("%d duplicates of %d events: over %d%%", dups, len(want), maxDuplicatesPercent)
			}
			if len(items) != 1 || !strings.Contains(items[0].Entry.Reason, "not gzip") {
				t.Fatalf("quarantine holds %d items, want the poison record", len(items))
			}
		})
	}
}
