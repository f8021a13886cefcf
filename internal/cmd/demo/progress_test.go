package demo

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/internal/devkit/poller"
	"github.com/logfan/logfan/shared/app"
)

// slowInvoker makes every invocation take at least d, as the logs sink's
// first invocations do on moto (group and stream creation).
type slowInvoker struct {
	h poller.Invoker
	d time.Duration
}

func (s slowInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	time.Sleep(s.d)
	return s.h.Invoke(ctx, payload)
}

// TestDemoLastStatusIsFinal: a sink slower than the progress ticks must
// still end with a status line showing every shard drained and every event
// delivered. `make demo` once ended on "logs 5000 events delivered (0/4
// shards drained, ...)": the last line was the last tick's snapshot, taken
// while the logs mapping was finishing, and nothing was printed after it.
func TestDemoLastStatusIsFinal(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 400)
	target := StdoutTarget()
	newHandler := target.NewHandler
	target.NewHandler = func(ctx context.Context, d app.Deps) (poller.Invoker, error) {
		h, err := newHandler(ctx, d)
		if err != nil {
			return nil, err
		}
		return slowInvoker{h, 3 * o.ProgressEvery}, nil
	}
	o.Targets = []Target{target}
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	last := ""
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "demo: consumers: ") {
			last = l
		}
	}
	want := fmt.Sprintf("demo: consumers: stdout 400 events delivered (%d/%d shards drained, %d invocations,",
		rep.Shards, rep.Shards, rep.Sinks[0].Invocations)
	if !strings.HasPrefix(last, want) {
		t.Errorf("last status line\n %q\nwant it to start with\n %q\n%s", last, want, out)
	}
}
