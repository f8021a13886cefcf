package capacity

import (
	"fmt"
	"slices"
	"strconv"
)

// Monthly volumes past which the first-tier prices overstate the bill.
const (
	lambdaFirstTierGBSeconds = 7.5e9
	s3FirstTierBytes         = 50 << 40
)

func warnings(in Input, p *Plan, opt StreamOption) []string {
	var w []string
	add := func(format string, a ...any) { w = append(w, fmt.Sprintf(format, a...)) }
	r, m, q := p.Rates, p.Mapping, p.Quotas
	if in.Region != "us-east-1" {
		add("prices are us-east-1's; %s's differ (quotas are %s's)", in.Region, in.Region)
	}
	if !opt.Feasible {
		add("no stream option fits the default quotas: %s", opt.Why)
	}
	if opt.Mode == Provisioned {
		if opt.Shards > 10000 {
			add("%d shards: the stack's shardCount accepts at most 10,000", opt.Shards)
		}
		if float64(opt.Shards) >= Near*float64(ShardQuota(in.Region)) {
			add("%d shards come near the account's default quota of %d shards in %s: request an increase first", opt.Shards, ShardQuota(in.Region), in.Region)
		}
	}
	if opt.Mode == OnDemand && r.RecordBytes < OnDemandRoundBytes {
		add("records average %.0f bytes: on-demand bills each as 1 KB, %.1fx the data", r.RecordBytes, OnDemandRoundBytes/r.RecordBytes)
	}
	for _, f := range m.Functions {
		if f.VCPU > 1 {
			add("the %s function needs %.2f vCPU per instance at a shard's peak even at parallelizationFactor %d, and its path runs on one core: add shards", f.Sink, f.VCPU, m.ParallelizationFactor)
		}
	}
	if float64(m.Concurrency) >= Near*AccountConcurrency {
		add("the functions run %d instances at once at the peak, near the account's default of %d concurrent executions per region (shared with every other function): request an increase", m.Concurrency, AccountConcurrency)
	}
	if q.FirehoseStreams > 1 {
		add("Firehose needs %d streams at the peak (%.1f MiB/s, %.0f requests/s against %.0f MiB/s and %.0f requests/s per stream in %s): route the events across that many streams (routes and firehoseStreams) or request a quota increase",
			q.FirehoseStreams, q.FirehoseBytes/MiB, q.FirehoseRequests, q.FirehoseQuota.Bytes/MiB, q.FirehoseQuota.Requests, in.Region)
	}
	if q.PutLogEvents >= Near*q.PutLogEventsQuota {
		add("the logs sink makes %.0f PutLogEvents calls/s at the peak against the account's %.0f/s in its region (shared with everything else logging there): request an increase", q.PutLogEvents, q.PutLogEventsQuota)
	}
	if q.S3PutsPerPrefix >= Near*q.S3PrefixLimit {
		add("a busy log group can take %.0f S3 PUTs/s into one prefix at the peak, near S3's %d/s per prefix: expect 503 SlowDown retries", q.S3PutsPerPrefix, S3PutsPerPrefix)
	}
	for _, l := range p.Bill {
		switch {
		case l.Service == "Firehose" && l.Quantity*GiB > FirehoseFirstTierBytes:
			add("Firehose ingests %.0f TB a month, past the first 500 TB: the next tiers cost less than the plan says", l.Quantity*GiB/(1<<40))
		case l.Service == "Lambda" && l.Unit == "GB-seconds" && l.Quantity > lambdaFirstTierGBSeconds:
			add("Lambda bills %.2g GB-seconds a month, past the first tier: the plan overstates duration", l.Quantity)
		case l.Service == "S3" && l.Unit == "GB-months" && l.Quantity*GiB > s3FirstTierBytes:
			add("S3 stores %.0f TB a month, past the first 50 TB: storage costs slightly less than the plan says", l.Quantity*GiB/(1<<40))
		}
	}
	return w
}

func context(in Input, m Mapping, opt StreamOption) []string {
	c := []string{"streamMode=" + opt.Mode}
	if opt.Mode == Provisioned {
		c = append(c, "shardCount="+strconv.Itoa(opt.Shards))
	}
	c = append(c,
		"enhancedFanOut="+strconv.FormatBool(opt.Reads == FanOut),
		"batchSize="+strconv.Itoa(m.BatchSize),
		"batchWindowSeconds="+strconv.Itoa(m.BatchWindowSeconds),
		"parallelizationFactor="+strconv.Itoa(m.ParallelizationFactor),
		"functionMemoryMB="+strconv.Itoa(m.FunctionMemoryMB))
	for _, s := range Sinks {
		if !slices.Contains(in.EnabledSinks(), s) {
			c = append(c, s+"Enabled=false")
		}
	}
	return c
}
