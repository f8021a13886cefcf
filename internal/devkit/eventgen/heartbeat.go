package eventgen

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/logfan/logfan/shared/subscription"
)

// Heartbeat describes one sender heartbeat as the sender stack writes it:
// an EventBridge schedule rule whose target is the heartbeat log group
// writes the rule's Scheduled Event JSON as the log event.
type Heartbeat struct {
	// Owner is the payload's owner, which CloudWatch Logs sets to the sender's account.
	Owner string
	// Region is where the heartbeat was written.
	Region string
	// LogGroup is the heartbeat log group (config.DefaultHeartbeatLogGroup).
	LogGroup string
	// At is the scheduled time.
	At time.Time
	// SystemFields adds what a subscription filter with emitSystemFields
	// ["@aws.account", "@aws.region"] adds to each event's extractedFields.
	SystemFields bool
	// Claim, if set, is the account the message's JSON names instead of
	// Owner: what a sender writing its own "heartbeat" could claim.
	Claim string
	// Hub, if set, is the payload's owner: the heartbeat as the hub's own
	// subscription sends it once CloudWatch Logs centralization copied it
	// there (SystemFields then name its source, Owner and Region).
	Hub string
}

// Message returns the subscription payload CloudWatch Logs delivers for h.
func (h Heartbeat) Message() *subscription.Message {
	account := h.Owner
	if h.Claim != "" {
		account = h.Claim
	}
	ev, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("%08x-0000-4000-8000-%012x", h.At.Unix()&0xffffffff, h.At.UnixNano()&0xffffffffffff),
		"detail-type": "Scheduled Event", "source": "aws.events", "account": account,
		"time": h.At.UTC().Format(time.RFC3339), "region": h.Region,
		"resources": []string{"arn:aws:events:" + h.Region + ":" + account + ":rule/logfan-heartbeat"}, "detail": map[string]any{},
	})
	e := subscription.LogEvent{ID: fmt.Sprintf("%020d%036d", h.At.UnixMilli(), 0), Timestamp: h.At.UnixMilli(), Message: string(ev)}
	if h.SystemFields {
		e.ExtractedFields = json.RawMessage(`{"@aws.account":"` + h.Owner + `","@aws.region":"` + h.Region + `"}`)
	}
	owner := h.Owner
	if h.Hub != "" {
		owner = h.Hub
	}
	return &subscription.Message{
		MessageType: subscription.DataMessage, Owner: owner, LogGroup: h.LogGroup, LogStream: "logfan-heartbeat",
		SubscriptionFilters: []string{"logfan"}, LogEvents: []subscription.LogEvent{e},
	}
}
