package subscription

import "slices"

// SourceOf returns where event i of m was logged (Account and Region, or
// EventSources[i]).
func (m *Message) SourceOf(i int) Source {
	if m.EventSources != nil {
		return m.EventSources[i]
	}
	return Source{Account: m.Account, Region: m.Region}
}

// Part is the events of one source of a Message whose events came from
// several (Split).
type Part struct {
	// Message is the original with only these events, their source as its
	// Account and Region, and no EventSources.
	Message *Message
	// Events holds the index each of Message's events has in the original.
	Events []int32
}

// Split returns m's events grouped by source, one Part per source in the
// order of its first event, each keeping its events' order; nil when m has
// no EventSources (every event shares m's Account and Region).
func Split(m *Message) []Part {
	if m.EventSources == nil {
		return nil
	}
	var parts []Part
	for i, s := range m.EventSources {
		k := slices.IndexFunc(parts, func(p Part) bool { return p.Message.Account == s.Account && p.Message.Region == s.Region })
		if k < 0 {
			pm := *m
			pm.LogEvents, pm.EventSources = nil, nil
			pm.Account, pm.Region = s.Account, s.Region
			parts = append(parts, Part{Message: &pm})
			k = len(parts) - 1
		}
		p := &parts[k]
		p.Message.LogEvents = append(p.Message.LogEvents, m.LogEvents[i])
		p.Events = append(p.Events, int32(i))
	}
	return parts
}

// Attribute makes the source account a payload names the owner of its
// events, where that can be trusted. Owner is the account CloudWatch Logs
// says sent the payload: a sender cannot forge it. The "@aws.account" a
// payload names is trusted only when Owner is hub, the recipient's own
// account, whose log groups alone may hold other accounts' events
// (CloudWatch Logs centralization copies them there, and its subscription
// filter emits their source account): then Account becomes Owner and hub
// is kept as HubAccount. From any other owner it is not: a sender that
// named another account in its payload would otherwise write into that
// account's partitions, routes, metrics and sender health. hub "" trusts
// no payload. m must have no EventSources (see Split).
func Attribute(m *Message, hub string) {
	if hub == "" || m.Owner != hub || m.Account == "" || m.Account == m.Owner {
		return
	}
	m.HubAccount, m.Owner = m.Owner, m.Account
}
