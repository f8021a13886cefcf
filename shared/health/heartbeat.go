package health

import "github.com/logfan/logfan/shared/subscription"

// RegionOf returns the region CloudWatch Logs reported for m's events
// (the "@aws.region" system field, which the decoder reads and checks:
// subscription.Message.Region), or "" when the payload does not carry it
// or its events differ (the consumer splits those per source first).
func RegionOf(m *subscription.Message) string { return m.Region }

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
