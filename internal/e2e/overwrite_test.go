package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/eventgen"
	"github.com/logfan/logfan/internal/devkit/faults"
	"github.com/logfan/logfan/internal/devkit/localenv"
	"github.com/logfan/logfan/internal/ops/readback"
	"github.com/logfan/logfan/shared/app"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/invocation"
)

// TestSmallerRetryWithLedgerDownLosesNothing is the sequence of issue 21,
// item 1, on moto with the real S3 handler and its DynamoDB ledger: a big
// batch partly lands (one partition's PUTs are refused) and the ledger
// lists what landed; a smaller retry runs while the ledger can neither be
// read nor written, so the entry of the first attempt survives; the ledger
// comes back and Lambda retries the whole rest. Every event must be in S3.
// When objects were named for their first event only, the smaller retry
// rewrote the /grp-c object of the first attempt with fewer events, and the
// last retry skipped the rest on the stale entry's word: they were lost.
func TestSmallerRetryWithLedgerDownLosesNothing(t *testing.T) {
	readers := emutest.Clients(t, srv)
	ctx := context.Background()
	// Ten records; record i is of log group grp-a, grp-b, grp-c by i%3, so
	// the grp-c partition's object of the first attempt starts at record 2,
	// after the retry point (record 1, grp-b's first).
	g := eventgen.New(21)
	now := time.Now().Add(-time.Hour).Truncate(time.Hour).Add(10 * time.Minute)
	var datas [][]byte
	want := map[string]bool{}
	for i := range 10 {
		src := eventgen.Source{Owner: "111111111111", LogGroup: "grp-" + string(rune('a'+i%3)), LogStream: "s", Kind: eventgen.KindApp}
		m := g.Message(src, 20, now.Add(time.Duration(i)*time.Second), time.Millisecond, 0)
		for _, e := range m.LogEvents {
			want[e.ID] = true
		}
		datas = append(datas, eventgen.MustPayload(m))
	}
	full := invocation.NewKinesisEvent(invocation.Stream{}, datas)

	var grpBDown, ledgerDown atomic.Bool
	// grp-b's refusal waits until the invocation's grp-c object landed:
	// otherwise the sink may give up on grp-c first (it is after the
	// failed record) and the sequence would not happen.
	var (
		mu       sync.Mutex
		grpCDone = make(chan struct{})
	)
	nextInvocation := func() {
		mu.Lock()
		grpCDone = make(chan struct{})
		mu.Unlock()
	}
	isPut := func(req *http.Request, group string) bool {
		return req.Method == http.MethodPut && strings.Contains(req.URL.Path, "log_group="+group+"/")
	}
	inject := func(req *http.Request, _ []byte, _ int) (*http.Response, error) {
		mu.Lock()
		done := grpCDone
		mu.Unlock()
		switch {
		case ledgerDown.Load() && strings.HasPrefix(faults.Target(req), "DynamoDB_"):
			return faults.JSONError(400, "AccessDeniedException", "injected: the ledger is unreachable"), nil
		case grpBDown.Load() && isPut(req, "grp-b"):
			select {
			case <-done:
			case <-req.Context().Done():
			}
			return faults.XMLError(403, "AccessDenied", "injected: grp-b cannot be written"), nil
		case isPut(req, "grp-c"):
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err == nil && resp.StatusCode == http.StatusOK {
				close(done)
			}
			return resp, err
		}
		return nil, nil
	}
	names := localenv.DefaultNames().WithSuffix("-overwrite")
	var last consumer.Summary
	h := newHandler(t, readers, names, config.SinkS3, app.Deps{
		Logger:     slog.New(slog.DiscardHandler),
		HTTPClient: &http.Client{Transport: &faults.Transport{Inject: inject}},
		OnSummary:  func(s consumer.Summary) { last = s },
	})
	invoke := func(ev events.KinesisEvent) []events.KinesisBatchItemFailure {
		t.Helper()
		nextInvocation()
		return invokeEvent(t, h, ev, 20*time.Second)
	}
	retryPoint := full.Records[1].Kinesis.SequenceNumber
	wantRetry := func(step string, got []events.KinesisBatchItemFailure) {
		t.Helper()
		if len(got) != 1 || got[0].ItemIdentifier != retryPoint {
			t.Fatalf("%s: batchItemFailures %+v, want record 1 (%s) (summary %+v)", step, got, retryPoint, last)
		}
	}

	// 1. The big batch: grp-a and grp-c land, grp-b does not; the ledger
	// lists grp-c's events (records 2, 5, 8) under the retry point.
	grpBDown.Store(true)
	wantRetry("big batch", invoke(full))
	if last.LedgerErr != "" {
		t.Fatalf("big batch: ledger error %s", last.LedgerErr)
	}
	// 2. A smaller retry (records 1-5) while the ledger is down: nothing is
	// skipped, grp-b still fails, and the entry cannot be replaced.
	ledgerDown.Store(true)
	wantRetry("smaller retry", invoke(events.KinesisEvent{Records: full.Records[1:6]}))
	if last.LedgerErr == "" {
		t.Fatal("smaller retry: the ledger never failed: the test proves nothing")
	}
	// 3. The ledger and grp-b are back: Lambda retries records 1-9.
	ledgerDown.Store(false)
	grpBDown.Store(false)
	if f := invoke(events.KinesisEvent{Records: full.Records[1:]}); len(f) != 0 {
		t.Fatalf("last retry: batchItemFailures %+v (summary %+v)", f, last)
	}

	recs, keys, err := readback.Records(ctx, readers.S3, names.DataBucket, config.DefaultS3Prefix+"/")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, r := range recs {
		got[r.ID]++
	}
	lost, dups := lostAndDuplicates(want, got)
	t.Logf("%d events, %d objects, %d records read back; lost %d, duplicates %d; skipped by the last retry %d", len(want), len(keys), len(recs), lost, dups, last.Skipped)
	if lost != 0 {
		t.Fatalf("%d of %d events are in no S3 object (objects: %s)", lost, len(want), fmt.Sprint(keys))
	}
}
