package main

import "github.com/logfan/logfan/internal/cmd/doctor"

func init() {
	register("doctor", "check a deployed recipient (and, with `doctor sender`, a sender) end to end: PASS/WARN/FAIL with evidence and fixes", doctor.Run)
}
