package recipient

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/logfan/logfan/internal/ops/stdoutsink"
	"github.com/logfan/logfan/shared/config"
	logconsumer "github.com/logfan/logfan/shared/consumer"
	"github.com/logfan/logfan/shared/emf"
	"github.com/logfan/logfan/shared/quarantine"
	"github.com/logfan/logfan/shared/routes"
)

// emitted runs the real handler over the sample Kinesis event, with table
// (nil: no routes), and returns, per metric name, the dimension sets of the
// EMF documents it wrote, each as sorted comma-joined names.
func emitted(t *testing.T, table string) map[string][]string {
	t.Helper()
	payload, err := os.ReadFile(filepath.Join("..", "..", "events", "kinesis-data.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := logconsumer.Options{Sink: stdoutsink.New(io.Discard), Quarantine: &quarantine.Memory{}, Logger: slog.New(slog.DiscardHandler)}
	if table != "" {
		if o.Routes, err = config.ParseRoutes([]byte(table), routes.Defaults{}); err != nil {
			t.Fatal(err)
		}
	}
	var metrics strings.Builder
	o.Metrics = &metrics
	if _, err := logconsumer.New(o).Invoke(context.Background(), payload); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(metrics.String()), "\n") {
		var doc struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("EMF line %s: %v", line, err)
		}
		for _, cm := range doc.AWS.CloudWatchMetrics {
			if cm.Namespace != emf.Namespace {
				t.Fatalf("namespace %s", cm.Namespace)
			}
			for _, dims := range cm.Dimensions {
				dims = slices.Clone(dims)
				sort.Strings(dims)
				for _, m := range cm.Metrics {
					if set := strings.Join(dims, ","); !slices.Contains(out[m.Name], set) {
						out[m.Name] = append(out[m.Name], set)
					}
				}
			}
		}
	}
	return out
}

// reSearch finds a dashboard SEARCH's schema and metric name.
var reSearch = regexp.MustCompile(`SEARCH\('\{([^}]*)\} MetricName="([^"]+)"`)

func TestDashboardSearchesWhatTheFunctionsEmit(t *testing.T) {
	for name, c := range map[string]struct {
		stack func(*testing.T) *synthesized
		table string
	}{"no routes": {defaultStack, ""}, "routes": {routedStack, testRoutes}} {
		t.Run(name, func(t *testing.T) {
			// GIVEN the metrics a function emits for the sample event
			have := emitted(t, c.table)
			// AND every SEARCH of the stack's dashboard
			_, d := c.stack(t).only(t, "AWS::CloudWatch::Dashboard")
			body := newEvaluator(c.stack(t).json, nil).eval(t, props(d)["DashboardBody"]).(string)
			// The expressions are strings inside the dashboard's JSON, quotes escaped.
			found := reSearch.FindAllStringSubmatch(strings.ReplaceAll(body, `\"`, `"`), -1)
			if len(found) == 0 {
				t.Fatal("no SEARCH expressions")
			}
			for _, m := range found {
				// THEN each searches a metric the functions emit, with exactly the
				// dimensions it is emitted with (SEARCH's schema matches no other set)
				schema := strings.Split(m[1], ",")
				if schema[0] != emf.Namespace {
					t.Errorf("%s: namespace %s", m[0], schema[0])
					continue
				}
				dims := slices.Clone(schema[1:])
				sort.Strings(dims)
				if !slices.Contains(have[m[2]], strings.Join(dims, ",")) {
					t.Errorf("%s: the functions emit %s with dimensions %v only", m[0], m[2], have[m[2]])
				}
			}
		})
	}
}
