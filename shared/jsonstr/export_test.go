package jsonstr

// The benchmarks live in package jsonstr_test: they generate their input
// with eventgen, which imports subscription, which imports jsonstr. These
// hand them the escapers and UTF-8 repairs this package replaced, their
// baselines.
var (
	OldRecordAppendString   = oldRecordAppendString
	OldLogsAppendJSONString = oldLogsAppendJSONString
	OldRepair               = oldRepair
	OldLogsRepairUTF8       = oldLogsRepairUTF8
)
