// Package render presents a sync.Plan and an apply result: as text for a
// terminal, as a versioned JSON document (also the saved-plan file), and as
// markdown for pull-request comments. Renderers present; they never decide:
// every verdict (guards, counts, reasons) comes from the plan itself.
//
// Colour is decided once by the caller and passed in; nothing here reads
// the environment or global state.
package render
