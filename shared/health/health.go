// Package health is logfan's sender health: which sender accounts, regions
// and log groups are sending, and which stopped.
//
// The consumers recognise heartbeat events (by their log group's name,
// never by what a message says) and aggregate, per record, the last
// heartbeat of each (account, region) and the last event, events and bytes
// of each (account, region, log group) per day (Recorder). One consumer
// function writes the aggregates to a DynamoDB table, each key at most once
// per interval per function instance (package dynamohealth). The watchdog
// and `logfan senders` read the table back and compute each expected
// sender's state (Evaluate).
//
// Only what CloudWatch Logs sets is trusted: a record counts for its
// owner (the payload's, or for the recipient's own log groups the source
// account their "@aws.account" system field names: subscription.Attribute),
// and for the region CloudWatch Logs reports in the events' system field
// "@aws.region" (emitSystemFields; subscription.Message.Region), else for
// the region "" (unknown). A sender can write anything into its own log
// groups, so an account or region written in a message is never used.
package health

import (
	"time"
)

// Item layout of the table (the recipient stack creates it with the key
// schema pk, sk and TTL on expires; this package owns everything else).
//
// A sender item, one per (account, region), under the partition SendersPK:
//
//	pk "senders", sk "<account>#<region>", account, region,
//	lastHeartbeat (ms since the epoch, only ever raised), heartbeats (count), expires
//
// A log-group item, one per (account, region, log group, UTC day), under
// the day's partition:
//
//	pk "day#2026-01-02", sk "<account>#<region>#<log group>", account, region,
//	logGroup, day, lastEvent (ms, only ever raised), events, bytes, expires
//
// Log group names may hold '#', so the log group comes last in sk; readers
// use the attributes, never sk.
const (
	AttrPK            = "pk"
	AttrSK            = "sk"
	AttrExpires       = "expires"
	AttrAccount       = "account"
	AttrRegion        = "region"
	AttrLogGroup      = "logGroup"
	AttrDay           = "day"
	AttrLastHeartbeat = "lastHeartbeat"
	AttrHeartbeats    = "heartbeats"
	AttrLastEvent     = "lastEvent"
	AttrEvents        = "events"
	AttrBytes         = "bytes"
)

// SendersPK is the partition of the sender items.
const SendersPK = "senders"

// DayLayout formats a UTC day in keys and items.
const DayLayout = "2006-01-02"

// Retention of the items (the table's TTL deletes them after).
const (
	// SenderRetention keeps a sender item this long after its last heartbeat:
	// longer than any sensible forgetSendersAfterDays.
	SenderRetention = 90 * 24 * time.Hour
	// DayRetention keeps a log-group item this long after its day: a week
	// for the watchdog's silent log groups, a month and more for charge-back.
	DayRetention = 40 * 24 * time.Hour
)

// DayPK is the partition key of day's log-group items.
func DayPK(day string) string { return "day#" + day }

// SenderSK is the sort key of a sender item.
func SenderSK(account, region string) string { return account + "#" + region }

// LogGroupSK is the sort key of a log-group item.
func LogGroupSK(account, region, logGroup string) string {
	return account + "#" + region + "#" + logGroup
}

// Day is t's UTC day as keys name it.
func Day(t time.Time) string { return t.UTC().Format(DayLayout) }

// Sender is a sender item as read back.
type Sender struct {
	Account string `json:"account"`
	// Region is where CloudWatch Logs said the heartbeats came from, or "" (unknown).
	Region        string    `json:"region"`
	LastHeartbeat time.Time `json:"lastHeartbeat"`
	Heartbeats    int64     `json:"heartbeats"`
}

// LogGroupDay is a log-group item as read back: one log group's traffic on one UTC day.
type LogGroupDay struct {
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	LogGroup  string    `json:"logGroup"`
	Day       string    `json:"day"`
	LastEvent time.Time `json:"lastEvent"`
	Events    int64     `json:"events"`
	Bytes     int64     `json:"bytes"`
}
