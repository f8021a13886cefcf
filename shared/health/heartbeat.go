package health

import (
	"bytes"

	"github.com/logfan/logfan/shared/subscription"
)

// regionField opens the value of the system field CloudWatch Logs adds to
// each event's extractedFields when a subscription filter emits it. The
// decoder compacts extractedFields (no whitespace between tokens), so the
// key and its value's opening quote are always these bytes.
var regionField = []byte(`"@aws.region":"`)

// regionBytes returns the "@aws.region" value of the record's first event
// (every event of a record comes from one log group in one region), or nil.
// A value that is not a plausible region name (lowercase letters, digits
// and dashes, at most 32) is ignored: nothing is invented.
func regionBytes(m *subscription.Message) []byte {
	if len(m.LogEvents) == 0 {
		return nil
	}
	ef := m.LogEvents[0].ExtractedFields
	i := bytes.Index(ef, regionField)
	if i < 0 {
		return nil
	}
	v := ef[i+len(regionField):]
	end := bytes.IndexByte(v, '"')
	if end <= 0 || end > 32 {
		return nil
	}
	for _, c := range v[:end] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return nil
		}
	}
	return v[:end]
}

// RegionOf returns the region CloudWatch Logs reported for m (its events'
// "@aws.region" system field), or "" when the payload does not carry it.
func RegionOf(m *subscription.Message) string { return string(regionBytes(m)) }

// matcher recognises heartbeat log groups by exact name.
type matcher []string

func (hb matcher) match(logGroup string) bool {
	for _, g := range hb {
		if logGroup == g {
			return true
		}
	}
	return false
}
