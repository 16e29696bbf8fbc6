package spinnaker

// lastPlan is the plan Prepare made last (tests run the Prepare-calling
// tests one after another: none of them is parallel).
var lastPlan *plan

func init() { onPrepare = func(p *plan) { lastPlan = p } }
