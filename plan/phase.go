package plan

// Phase is one system's turn in an apply. Phases run in order, because a
// later system needs what an earlier one made: Vault's mount config carries
// the client secret that Keycloak creates.
type Phase int

// The phases, in the order they are applied.
const (
	PhaseKeycloak Phase = iota + 1
	PhaseVault
)

func (p Phase) String() string {
	switch p {
	case PhaseKeycloak:
		return "keycloak"
	case PhaseVault:
		return "vault"
	}
	return "phase?"
}

// stage is a change's place in the execution order.
type stage struct {
	phase Phase
	step  int
}

func (s stage) less(o stage) bool {
	if s.phase != o.phase {
		return s.phase < o.phase
	}
	return s.step < o.step
}
