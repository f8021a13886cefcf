package logssink

import (
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// landed records the outcome of a successful call for w.events[lo:hi].
func (d *delivery) landed(w *streamWork, lo, hi int, info *types.RejectedLogEventsInfo) {
	rj := readRejected(info, hi-lo)
	for i := lo; i < hi; i++ {
		if why := rj.reason(i - lo); why != "" {
			d.reject(w, i, why, fmt.Sprintf("PutLogEvents rejected the event as %s (rejectedLogEventsInfo %s of a %d-event batch, event %d) into %s", why, rj, hi-lo, i-lo, w.t))
			continue
		}
		w.status[i] = statusDelivered
	}
}

func (d *delivery) reject(w *streamWork, i int, key, reason string) {
	w.status[i] = statusRejected
	d.mu.Lock()
	d.rejects = append(d.rejects, candidate{rec: w.events[i].rec, idx: w.events[i].idx, kind: key, reason: reason})
	d.mu.Unlock()
}

// rejection is a decoded rejectedLogEventsInfo for a batch of n events.
type rejection struct {
	n                      int
	tooOldEnd, expiredEnd  int // exclusive ends; 0 when absent
	tooNewStart            int // inclusive start; n when absent
	hasOld, hasExp, hasNew bool
	rawOld, rawExp, rawNew int32
}

// readRejected decodes info for a batch of n events, clamping indexes the
// service should never send out of range.
func readRejected(info *types.RejectedLogEventsInfo, n int) rejection {
	r := rejection{n: n, tooNewStart: n}
	if info == nil {
		return r
	}
	clamp := func(v int32) int { return max(0, min(n, int(v))) }
	if info.TooOldLogEventEndIndex != nil {
		r.hasOld, r.rawOld, r.tooOldEnd = true, *info.TooOldLogEventEndIndex, clamp(*info.TooOldLogEventEndIndex)
	}
	if info.ExpiredLogEventEndIndex != nil {
		r.hasExp, r.rawExp, r.expiredEnd = true, *info.ExpiredLogEventEndIndex, clamp(*info.ExpiredLogEventEndIndex)
	}
	if info.TooNewLogEventStartIndex != nil {
		r.hasNew, r.rawNew, r.tooNewStart = true, *info.TooNewLogEventStartIndex, clamp(*info.TooNewLogEventStartIndex)
	}
	return r
}

// reason says why event i of the batch was rejected, or "" if it landed.
// An event both too old and expired counts as too old.
func (r rejection) reason(i int) string {
	switch {
	case i < r.tooOldEnd:
		return RejectedTooOld
	case i < r.expiredEnd:
		return RejectedExpired
	case i >= r.tooNewStart:
		return RejectedTooNew
	}
	return ""
}

func (r rejection) String() string {
	s := "{"
	add := func(name string, v int32) {
		if len(s) > 1 {
			s += ","
		}
		s += name + ":" + strconv.Itoa(int(v))
	}
	if r.hasOld {
		add("tooOldLogEventEndIndex", r.rawOld)
	}
	if r.hasExp {
		add("expiredLogEventEndIndex", r.rawExp)
	}
	if r.hasNew {
		add("tooNewLogEventStartIndex", r.rawNew)
	}
	return s + "}"
}
