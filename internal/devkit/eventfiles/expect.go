package eventfiles

import (
	"encoding/json"
	"fmt"
	"os"
)

// ExpectationsName is the expectations file written beside the event files
// of each output directory (events/expected.json, events/generated/expected.json).
const ExpectationsName = "expected.json"

// Expectations is what the event files of one directory hold, for tests to
// count against.
type Expectations struct {
	// Comment says where the file comes from.
	Comment string `json:"comment"`
	// MaxDecompressed is the decoder cap the poison errors assume
	// (subscription.DefaultMaxDecompressed).
	MaxDecompressed int64 `json:"maxDecompressed"`
	// Files describe the event files, in manifest order.
	Files []FileExpectation `json:"files"`
}

// FileExpectation describes one event file.
type FileExpectation struct {
	// File is the event file's path relative to the expectations file.
	File string `json:"file"`
	// Path is the event file's path relative to the output directory (events/).
	Path string `json:"path"`
	// Event is "kinesis" or "awslogs".
	Event string `json:"event"`
	// Description says what the file is for.
	Description string `json:"description"`
	// Bytes is the size of the event JSON.
	Bytes int `json:"bytes"`
	// LimitBytes is the size the file was filled up to (0 unless filled).
	LimitBytes int `json:"limitBytes,omitempty"`
	// Counts are the totals a consumer must account for.
	Counts Counts `json:"counts"`
	// Owners are the sender accounts of the good DATA_MESSAGEs, sorted.
	Owners []string `json:"owners"`
	// LogGroups are the log groups of the good DATA_MESSAGEs, sorted.
	LogGroups []string `json:"logGroups"`
	// EventsByOwner counts good log events per sender account.
	EventsByOwner map[string]int `json:"eventsByOwner"`
	// EventsByLogGroup counts good log events per log group.
	EventsByLogGroup map[string]int `json:"eventsByLogGroup"`
	// Sources count the good DATA_MESSAGEs and their log events per source
	// (owner, log group, log stream), sorted.
	Sources []SourceCount `json:"sources"`
	// Poison lists the poison records (also marked in Records).
	Poison []PoisonExpectation `json:"poison"`
	// Records describe every record (one for an awslogs event), in order.
	Records []RecordExpectation `json:"records"`
}

// Counts are a file's totals.
type Counts struct {
	// Records is the number of Kinesis records (1 for an awslogs event).
	Records int `json:"records"`
	// DataMessages is the number of good DATA_MESSAGE payloads.
	DataMessages int `json:"dataMessages"`
	// ControlMessages is the number of CONTROL_MESSAGE payloads (skipped, counted, no log data).
	ControlMessages int `json:"controlMessages"`
	// PoisonRecords is the number of records that must fail to decode.
	PoisonRecords int `json:"poisonRecords"`
	// LogEvents is the number of log events in the good DATA_MESSAGEs: what must land.
	LogEvents int `json:"logEvents"`
	// DecompressedBytes is the total JSON size of the good payloads.
	DecompressedBytes int64 `json:"decompressedBytes"`
}

// SourceCount counts the good records and log events of one source.
type SourceCount struct {
	Owner     string `json:"owner"`
	LogGroup  string `json:"logGroup"`
	LogStream string `json:"logStream"`
	Records   int    `json:"records"`
	LogEvents int    `json:"logEvents"`
}

// RecordExpectation describes one record.
type RecordExpectation struct {
	// Index is the record's position in the event.
	Index int `json:"index"`
	// SequenceNumber and EventID identify a Kinesis record (empty for awslogs).
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	EventID        string `json:"eventID,omitempty"`
	// Type is "data", "control" or the poison kind.
	Type string `json:"type"`
	// MessageType is the payload's messageType (empty for poison records that have none).
	MessageType string `json:"messageType,omitempty"`
	// Owner, LogGroup and LogStream name the source (as a poison record claims it).
	Owner     string `json:"owner,omitempty"`
	LogGroup  string `json:"logGroup,omitempty"`
	LogStream string `json:"logStream,omitempty"`
	// PolicyLevel is set for payloads of an account-level subscription policy.
	PolicyLevel string `json:"policyLevel,omitempty"`
	// LogEvents is the number of log events a consumer must deliver from this record (0 for control and poison).
	LogEvents int `json:"logEvents"`
	// FirstEventID and LastEventID bound the delivered events.
	FirstEventID string `json:"firstEventID,omitempty"`
	LastEventID  string `json:"lastEventID,omitempty"`
	// DataBytes is the size of the record's data (after base64 decoding).
	DataBytes int `json:"dataBytes"`
	// DecompressedBytes is the payload's inflated size, when it inflates at all.
	DecompressedBytes int64 `json:"decompressedBytes,omitempty"`
	// Error names the subscription sentinel a decoder must return (poison only); see Sentinel.
	Error string `json:"error,omitempty"`
	// Note explains the record.
	Note string `json:"note,omitempty"`
}

// PoisonExpectation is one poison record and the failure it must cause.
type PoisonExpectation struct {
	Index          int    `json:"index"`
	SequenceNumber string `json:"sequenceNumber,omitempty"`
	// Kind is the poison kind (e.g. "truncated-gzip").
	Kind string `json:"kind"`
	// Error names the subscription sentinel a decoder must return; see Sentinel.
	Error string `json:"error"`
	// Reason says what is wrong with the record.
	Reason string `json:"reason"`
}

// LoadExpectations reads an expectations file.
func LoadExpectations(path string) (*Expectations, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read expectations: %w", err)
	}
	var e Expectations
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("parse expectations %s: %w", path, err)
	}
	return &e, nil
}

// File returns the expectation for the event file named name (its File or
// Path), or nil.
func (e *Expectations) File(name string) *FileExpectation {
	for i := range e.Files {
		if e.Files[i].File == name || e.Files[i].Path == name {
			return &e.Files[i]
		}
	}
	return nil
}
