package consumer

import (
	"github.com/logfan/logfan/shared/routes"
	"github.com/logfan/logfan/shared/subscription"
)

// router routes one invocation's records and counts events per route.
type router struct {
	table *routes.Table
	kind  string // the sink's name: whose targets this function delivers
	all   bool   // the stdout sink prints every routed record, whatever its targets
	// events and deliveries are per route; the last slot is Unmatched.
	events, deliveries []int
	// The previous record's names and route: records of one log stream
	// usually arrive together, so most records skip matching.
	prev     routes.Record
	last     int
	haveLast bool
}

func (h *Handler) newRouter() *router {
	if h.o.Routes == nil {
		return nil
	}
	n := len(h.o.Routes.Routes()) + 1
	kind := h.o.Sink.Name()
	return &router{table: h.o.Routes, kind: kind, all: kind == "stdout", events: make([]int, n), deliveries: make([]int, n)}
}

// route returns the record's route, the indexes of this sink's targets it
// goes to, and whether this sink gets it at all; it counts the events
// dropped or left to other sinks in sum.
func (r *router) route(m *subscription.Message, sum *Summary) (route int, targets []int, deliver bool) {
	if rec := (routes.Record{Owner: m.Owner, Region: m.Region, LogGroup: m.LogGroup, LogStream: m.LogStream}); !r.haveLast || rec != r.prev {
		r.prev = rec
		r.last, r.haveLast = r.table.Match(rec), true
	}
	route, n := r.last, len(m.LogEvents)
	slot := route
	if route < 0 {
		slot = len(r.events) - 1
	}
	r.events[slot] += n
	if route < 0 || len(r.table.Routes()[route].To) == 0 {
		sum.Dropped += n
		return route, nil, false
	}
	if r.all {
		r.deliveries[slot] += n
		return route, nil, true
	}
	targets = r.table.RouteTargets(route, r.kind)
	if len(targets) == 0 {
		sum.OtherSinks += n
		return route, nil, false
	}
	r.deliveries[slot] += n * len(targets)
	return route, targets, true
}

// counts lists the routes that saw events, in table order, Unmatched last.
func (r *router) counts() []RouteCount {
	var out []RouteCount
	rs := r.table.Routes()
	for i, n := range r.events {
		if n == 0 {
			continue
		}
		rc := RouteCount{Route: Unmatched, Events: n, Deliveries: r.deliveries[i]}
		if i < len(rs) {
			rc.Route = rs[i].Name
			for _, t := range rs[i].To {
				if r.all || t.Sink == r.kind {
					rc.Targets = append(rc.Targets, t.Name())
				}
			}
		}
		out = append(out, rc)
	}
	return out
}
