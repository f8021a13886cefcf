package demo

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/devkit/emulator/emutest"
	"github.com/logfan/logfan/shared/config"
	"github.com/logfan/logfan/shared/routes"
)

// TestDemoRoutes is `logfan demo -routes`, smaller: each route's targets
// hold exactly the events the table owes them, the drops are counted, and
// the last line adds up per sink.
func TestDemoRoutes(t *testing.T) {
	emutest.Require(t, srv)
	o, out := testOptions(t, 400)
	o.Routes = true
	rep, err := o.Run(context.Background())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	table, err := config.ParseRoutes([]byte(Routes(o.Names)), RouteDefaults(o.Names))
	if err != nil {
		t.Fatal(err)
	}
	// What the table owes each sink, from what the senders wrote.
	owed, dropped := map[string]int{}, 0
	for _, s := range rep.Sent.Sources {
		r := table.Match(routes.Record{Owner: s.Owner, LogGroup: s.Group, LogStream: s.Stream})
		if r < 0 || len(table.Routes()[r].To) == 0 {
			dropped += s.N
			continue
		}
		for _, tg := range table.Routes()[r].To {
			owed[tg.Sink] += s.N
		}
	}
	targets := map[string]bool{}
	for _, row := range rep.Routes {
		targets[row.Target] = true
		if row.Owed == 0 || row.Landed != row.Owed || row.Duplicates != 0 || row.Lost != 0 {
			t.Errorf("route %s, target %s: %+v", row.Route, row.Target, row)
		}
	}
	for _, want := range []string{"s3", "s3:security", "s3:apps", "firehose", "firehose:" + SIEMStream(o.Names), "logs", "logs:" + RoutedLogsRegion + ":/security/{owner}/{logGroup}"} {
		if !targets[want] {
			t.Errorf("no events reached target %s: the demo's table no longer exercises it", want)
		}
	}
	if dropped == 0 || rep.Dropped != dropped || rep.Misrouted != 0 || rep.Lost() != 0 {
		t.Errorf("dropped %d (want %d), misrouted %d, lost %d", rep.Dropped, dropped, rep.Misrouted, rep.Lost())
	}
	want := fmt.Sprintf("demo: sent 400 events; s3 %d, firehose %d, logs %d; dropped %d; lost 0; senders 3 ok", owed[routes.SinkS3], owed[routes.SinkFirehose], owed[routes.SinkLogs], dropped)
	if !strings.Contains(out.String(), want+"\n") || !strings.Contains(out.String(), "route  ") {
		t.Fatalf("output lacks the table or %q:\n%s", want, out)
	}
}
