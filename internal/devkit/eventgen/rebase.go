package eventgen

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/logfan/logfan/shared/invocation"
	"github.com/logfan/logfan/shared/subscription"
)

// Rebase shifts every log event's timestamp in a Lambda event (Kinesis or
// awslogs) by the same amount, so that the newest lands at now. CloudWatch
// Logs rejects events older than 14 days, so replaying old sample events
// into the logs sink needs this. Undecodable records are left untouched.
func Rebase(payload []byte, now time.Time) ([]byte, error) {
	inv, err := invocation.Parse(payload)
	if err != nil {
		return nil, err
	}
	dec := subscription.NewDecoder(0)
	var datas [][]byte
	if inv.IsAWSLogs {
		datas = [][]byte{inv.AWSLogsData}
	} else {
		for _, r := range inv.Records {
			datas = append(datas, r.Data)
		}
	}
	msgs := make([]*subscription.Message, len(datas))
	newest := int64(-1 << 63)
	for i, d := range datas {
		m, err := dec.Decode(d)
		if err != nil || m.IsControl() {
			continue
		}
		msgs[i] = m
		for _, e := range m.LogEvents {
			newest = max(newest, e.Timestamp)
		}
	}
	if newest == -1<<63 {
		return payload, nil
	}
	shift := now.UnixMilli() - newest
	for i, m := range msgs {
		if m == nil {
			continue
		}
		for j := range m.LogEvents {
			m.LogEvents[j].Timestamp += shift
		}
		if datas[i], err = subscription.Encode(m); err != nil {
			return nil, err
		}
	}
	if inv.IsAWSLogs {
		return invocation.AWSLogsEventJSON(datas[0])
	}
	// Re-encode through aws-lambda-go's own type so every other field survives.
	var ev events.KinesisEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("parse Kinesis event: %w", err)
	}
	for i := range ev.Records {
		ev.Records[i].Kinesis.Data = datas[i]
	}
	return json.MarshalIndent(ev, "", "  ")
}
