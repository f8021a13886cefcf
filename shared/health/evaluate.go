package health

import (
	"cmp"
	"slices"
	"time"

	"github.com/logfan/logfan/shared/config"
)

// Sender states.
const (
	// StateOK: a heartbeat within two heartbeat intervals.
	StateOK = "ok"
	// StateLate: no heartbeat for two intervals, not yet silent.
	StateLate = "late"
	// StateSilent: no heartbeat for SilentAfter: the stack's alarm fires.
	StateSilent = "silent"
	// StateNeverSeen: expected, and no heartbeat ever recorded.
	StateNeverSeen = "never seen"
	// StateUnexpected: sending (a heartbeat within SilentAfter, or events
	// within the log-group write interval) but not expected.
	StateUnexpected = "unexpected"
)

// WindowDays is how many days before today a log group must have sent on,
// every one of them, to be reported silent when it sends nothing today.
const WindowDays = 7

// SenderStatus is one sender's row.
type SenderStatus struct {
	Account string `json:"account"`
	// Region is "" when CloudWatch Logs did not report it (see Evaluate).
	Region string `json:"region"`
	State  string `json:"state"`
	// Expected says whether the row counts in the watchdog's metrics.
	Expected      bool      `json:"expected"`
	LastHeartbeat time.Time `json:"lastHeartbeat,omitzero"`
	// LastEvent is the latest event time of its log groups over the window (written at most hourly).
	LastEvent       time.Time `json:"lastEvent,omitzero"`
	EventsToday     int64     `json:"eventsToday"`
	BytesToday      int64     `json:"bytesToday"`
	EventsYesterday int64     `json:"eventsYesterday"`
	BytesYesterday  int64     `json:"bytesYesterday"`
	// ActiveLogGroups counts its log groups with events today.
	ActiveLogGroups int              `json:"activeLogGroups"`
	LogGroups       []LogGroupStatus `json:"logGroups,omitempty"`
}

// Name is "account/region" ("account/?" for an unknown region).
func (s SenderStatus) Name() string {
	r := s.Region
	if r == "" {
		r = "?"
	}
	return s.Account + "/" + r
}

// LogGroupStatus is one log group of a sender.
type LogGroupStatus struct {
	LogGroup        string    `json:"logGroup"`
	LastEvent       time.Time `json:"lastEvent,omitzero"`
	EventsToday     int64     `json:"eventsToday"`
	BytesToday      int64     `json:"bytesToday"`
	EventsYesterday int64     `json:"eventsYesterday"`
	BytesYesterday  int64     `json:"bytesYesterday"`
	// Silent: it sent on every one of the WindowDays days before today and nothing today.
	Silent bool `json:"silent,omitempty"`
}

// Report is the outcome of one evaluation.
type Report struct {
	Now     time.Time      `json:"now"`
	Senders []SenderStatus `json:"senders"`
	// Counts of the expected rows per state, and of unexpected rows.
	Silent     int `json:"silentSenders"`
	Late       int `json:"lateSenders"`
	NeverSeen  int `json:"neverSeenSenders"`
	Unexpected int `json:"unexpectedSenders"`
	// SilentLogGroups counts the log groups of any row reported silent.
	SilentLogGroups int `json:"silentLogGroups"`
}

// Count returns how many rows are in state (expected or not).
func (r *Report) Count(state string) int {
	n := 0
	for _, s := range r.Senders {
		if s.State == state {
			n++
		}
	}
	return n
}

// Days are the log-group items Evaluate reads: Days[0] is today, Days[i]
// i days before (WindowDays+1 entries; missing days count as empty).
type Days [][]LogGroupDay

// DayNames returns the UTC days Evaluate needs at now: today first.
func DayNames(now time.Time) []string {
	out := make([]string, WindowDays+1)
	for i := range out {
		out[i] = Day(now.AddDate(0, 0, -i))
	}
	return out
}

// Evaluate computes every expected or sending sender's state at now.
//
// Expected senders: in account-list mode Accounts x Regions; in
// organization mode every sender with a heartbeat within ForgetAfter or
// with events in the window, plus Accounts x Regions.
//
// A heartbeat (or an event) whose payload did not carry CloudWatch Logs'
// "@aws.region" has region "". When the stack has one region that is its
// region (a destination only takes subscriptions from its own region).
// With several regions it proves only that the account sends from one of
// them: it never counts for an expected (account, region), so it cannot
// hide a region's silence; its row (region "?") shows the account alive.
// In account-list mode that row is informational (not counted); in
// organization mode, where seen senders are the expectations, it is
// expected like any other and alarms when it goes silent.
func Evaluate(now time.Time, s Settings, senders []Sender, days Days) *Report {
	e := &evaluation{now: now, s: s, rows: map[senderKey]*SenderStatus{}}
	if len(s.Regions) == 1 {
		e.single = s.Regions[0]
	}
	e.addHeartbeats(senders)
	e.addLogGroups(days)
	return e.report(e.expected())
}

// evaluation is one Evaluate call's rows, which its phases fill in.
type evaluation struct {
	now    time.Time
	s      Settings
	single string // the stack's region when it has one, else ""
	rows   map[senderKey]*SenderStatus
}

// resolve is the region a heartbeat or event without one counts for: the
// stack's when it has one region, else "" (see Evaluate).
func (e *evaluation) resolve(region string) string {
	if region == "" {
		return e.single
	}
	return region
}

// row returns k's row, added if it has none yet.
func (e *evaluation) row(k senderKey) *SenderStatus {
	r := e.rows[k]
	if r == nil {
		r = &SenderStatus{Account: k.account, Region: k.region}
		e.rows[k] = r
	}
	return r
}

// addHeartbeats sets each sender's row's latest heartbeat.
func (e *evaluation) addHeartbeats(senders []Sender) {
	for _, sn := range senders {
		r := e.row(senderKey{sn.Account, e.resolve(sn.Region)})
		if sn.LastHeartbeat.After(r.LastHeartbeat) {
			r.LastHeartbeat = sn.LastHeartbeat
		}
	}
}

// addLogGroups adds each log group's traffic to its sender's row: per
// (account, region, group), today's and yesterday's traffic, its latest
// event, and whether it fell silent today after sending on every day of
// the window.
func (e *evaluation) addLogGroups(days Days) {
	type gkey struct {
		senderKey
		group string
	}
	type gacc struct {
		LogGroupStatus
		sentDays int // of the WindowDays days before today
	}
	groups := map[gkey]*gacc{}
	for i, day := range days {
		if i > WindowDays {
			break
		}
		for _, d := range day {
			k := gkey{senderKey{d.Account, e.resolve(d.Region)}, d.LogGroup}
			g := groups[k]
			if g == nil {
				g = &gacc{LogGroupStatus: LogGroupStatus{LogGroup: d.LogGroup}}
				groups[k] = g
			}
			if d.LastEvent.After(g.LastEvent) {
				g.LastEvent = d.LastEvent
			}
			switch i {
			case 0:
				g.EventsToday += d.Events
				g.BytesToday += d.Bytes
			case 1:
				g.EventsYesterday += d.Events
				g.BytesYesterday += d.Bytes
			}
			if i > 0 && d.Events > 0 {
				g.sentDays++
			}
		}
	}
	for k, g := range groups {
		g.Silent = g.sentDays >= WindowDays && g.EventsToday == 0
		r := e.row(k.senderKey)
		r.LogGroups = append(r.LogGroups, g.LogGroupStatus)
		if g.LastEvent.After(r.LastEvent) {
			r.LastEvent = g.LastEvent
		}
		r.EventsToday += g.EventsToday
		r.BytesToday += g.BytesToday
		r.EventsYesterday += g.EventsYesterday
		r.BytesYesterday += g.BytesYesterday
		if g.EventsToday > 0 {
			r.ActiveLogGroups++
		}
	}
}

// expected returns the rows that are expected, adding the rows of
// Accounts x Regions that have none: in organization mode also every
// sender seen within ForgetAfter.
func (e *evaluation) expected() map[senderKey]bool {
	expected := map[senderKey]bool{}
	for _, a := range e.s.Accounts {
		for _, reg := range e.s.Regions {
			expected[senderKey{a, reg}] = true
			e.row(senderKey{a, reg})
		}
	}
	if e.s.Mode == config.SenderModeOrganization {
		for k, r := range e.rows {
			if !r.LastHeartbeat.IsZero() && e.now.Sub(r.LastHeartbeat) <= e.s.ForgetAfter || r.LastHeartbeat.IsZero() && !r.LastEvent.IsZero() && e.now.Sub(r.LastEvent) <= e.s.ForgetAfter {
				expected[k] = true
			}
		}
	}
	return expected
}

// report gives each row its state, drops the rows neither expected nor
// sending, and counts the expected rows per state, the unexpected rows and
// the silent log groups.
func (e *evaluation) report(expected map[senderKey]bool) *Report {
	accountExpected := map[string]bool{}
	for _, a := range e.s.Accounts {
		accountExpected[a] = true
	}
	rep := &Report{Now: e.now}
	for k, r := range e.rows {
		r.Expected = expected[k]
		if r.State = e.state(k, r, accountExpected[k.account]); r.State == "" {
			// Neither expected nor sending: a removed or forgotten sender.
			delete(e.rows, k)
			continue
		}
		slices.SortFunc(r.LogGroups, func(a, b LogGroupStatus) int { return cmp.Compare(a.LogGroup, b.LogGroup) })
		rep.Senders = append(rep.Senders, *r)
		for _, g := range r.LogGroups {
			if g.Silent {
				rep.SilentLogGroups++
			}
		}
		if r.State == StateUnexpected {
			rep.Unexpected++
			continue
		}
		if !r.Expected {
			continue
		}
		switch r.State {
		case StateSilent:
			rep.Silent++
		case StateLate:
			rep.Late++
		case StateNeverSeen:
			rep.NeverSeen++
		}
	}
	slices.SortFunc(rep.Senders, func(a, b SenderStatus) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return rep
}

// state is row r's state: by its heartbeat if it is expected (or, in
// account-list mode, the region-less row of an expected account),
// unexpected if it is sending anyway, and "" if neither.
func (e *evaluation) state(k senderKey, r *SenderStatus, accountExpected bool) string {
	age := e.now.Sub(r.LastHeartbeat)
	heartbeatState := StateOK
	switch {
	case r.LastHeartbeat.IsZero():
		heartbeatState = StateNeverSeen
	case age > e.s.SilentAfter:
		heartbeatState = StateSilent
	case age > 2*e.s.HeartbeatInterval:
		heartbeatState = StateLate
	}
	sending := !r.LastHeartbeat.IsZero() && age <= e.s.SilentAfter ||
		!r.LastEvent.IsZero() && e.now.Sub(r.LastEvent) <= DefaultLogGroupInterval+e.s.SilentAfter
	switch {
	case r.Expected:
		return heartbeatState
	case k.region == "" && accountExpected:
		// Account-list mode, several regions, no region in the
		// payload: informational, never counted (see Evaluate).
		return heartbeatState
	case sending:
		return StateUnexpected
	}
	return ""
}
