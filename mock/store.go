package mock

import (
	"context"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.Store = (*Store)(nil)

// Store is a function-field fake of dispatcher.Store.
type Store struct {
	Recorder

	ReleaseFn          func(ctx context.Context, id string) (*dispatcher.Release, error)
	ChannelFn          func(ctx context.Context, id string) (*dispatcher.TelegramChannel, error)
	ScheduleSendFn     func(ctx context.Context, id string, at, asked time.Time, requireApproval bool, version int) (*dispatcher.Release, time.Time, error)
	SetScheduleFn      func(ctx context.Context, id string, at time.Time, early bool) (dispatcher.ReleaseStatus, error)
	EarlyPlannedFn     func(ctx context.Context, id string) error
	SetReleaseStatusFn func(ctx context.Context, id string, to dispatcher.ReleaseStatus, from ...dispatcher.ReleaseStatus) (dispatcher.ReleaseStatus, error)
	SnapshotCompleteFn func(ctx context.Context, id string) (bool, error)
	SnapshotDoneFn     func(ctx context.Context, id string) (dispatcher.ReleaseStatus, error)
	MembersFn          func(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error)
	SuppressedFn       func(ctx context.Context, emails []string) ([]bool, error)
	CreateDeliveriesFn func(ctx context.Context, rid string, ds []*dispatcher.Delivery) ([]string, error)
	DeliveryIDsFn      func(ctx context.Context, rid, cursor string, limit int) ([]string, string, error)
	FinishAndClaimByFn func(ctx context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error)
	FinishByFn         func(ctx context.Context, rid, worker string, outs []dispatcher.Outcome) (dispatcher.ReleaseStatus, error)
	RenewClaimFn       func(ctx context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error)
	TransitionFn       func(ctx context.Context, rid string, ids []string, to dispatcher.DeliveryStatus, from ...dispatcher.DeliveryStatus) ([]string, error)
	RequeueFailedFn    func(ctx context.Context, rid string, ids []string) ([]dispatcher.Ref, error)
	MarkActiveFn       func(ctx context.Context, rid string) error
	UnmarkActiveFn     func(ctx context.Context, rid string) error
	ActiveReleasesFn   func(ctx context.Context) ([]string, error)
	ActivityFn         func(ctx context.Context, rid string) (dispatcher.Activity, error)
	StalledFn          func(ctx context.Context, rid, cursor string, limit int, rule dispatcher.StallRule) ([]dispatcher.Ref, string, error)
	TryLockFn          func(ctx context.Context, name string, ttl time.Duration) (bool, error)
	HeartbeatFn        func(ctx context.Context, worker string, ttl time.Duration) error
	LeaveFn            func(ctx context.Context, worker string) error
	DeadWorkersFn      func(ctx context.Context, self string) ([]string, time.Time, error)
	ForgetWorkersFn    func(ctx context.Context, workers []string) error
}

// NewStore returns a Store whose every field calls base's method: a test
// replaces the fields it wants to behave otherwise. With base nil, every
// field is nil.
func NewStore(base dispatcher.Store) *Store {
	if base == nil {
		return &Store{}
	}
	return &Store{
		ReleaseFn: base.Release, ChannelFn: base.Channel, ScheduleSendFn: base.ScheduleSend,
		SetScheduleFn: base.SetSchedule, EarlyPlannedFn: base.EarlyPlanned,
		SetReleaseStatusFn: base.SetReleaseStatus, SnapshotCompleteFn: base.SnapshotComplete,
		SnapshotDoneFn: base.SnapshotDone, MembersFn: base.Members, SuppressedFn: base.Suppressed,
		CreateDeliveriesFn: base.CreateDeliveries, DeliveryIDsFn: base.DeliveryIDs,
		FinishAndClaimByFn: base.FinishAndClaimBy, FinishByFn: base.FinishBy, RenewClaimFn: base.RenewClaim, TransitionFn: base.Transition,
		RequeueFailedFn: base.RequeueFailed, MarkActiveFn: base.MarkActive, UnmarkActiveFn: base.UnmarkActive,
		ActiveReleasesFn: base.ActiveReleases, ActivityFn: base.Activity, StalledFn: base.Stalled,
		TryLockFn: base.TryLock, HeartbeatFn: base.Heartbeat, LeaveFn: base.Leave,
		DeadWorkersFn: base.DeadWorkers, ForgetWorkersFn: base.ForgetWorkers,
	}
}

// Release calls ReleaseFn.
func (s *Store) Release(ctx context.Context, id string) (*dispatcher.Release, error) {
	return call(&s.Recorder, s.ReleaseFn, "Release", id)(ctx, id)
}

// Channel calls ChannelFn.
func (s *Store) Channel(ctx context.Context, id string) (*dispatcher.TelegramChannel, error) {
	return call(&s.Recorder, s.ChannelFn, "Channel", id)(ctx, id)
}

// ScheduleSend calls ScheduleSendFn.
func (s *Store) ScheduleSend(ctx context.Context, id string, at, asked time.Time, requireApproval bool, version int) (*dispatcher.Release, time.Time, error) {
	return call(&s.Recorder, s.ScheduleSendFn, "ScheduleSend", id, at, asked, requireApproval, version)(ctx, id, at, asked, requireApproval, version)
}

// SetSchedule calls SetScheduleFn.
func (s *Store) SetSchedule(ctx context.Context, id string, at time.Time, early bool) (dispatcher.ReleaseStatus, error) {
	return call(&s.Recorder, s.SetScheduleFn, "SetSchedule", id, at, early)(ctx, id, at, early)
}

// EarlyPlanned calls EarlyPlannedFn.
func (s *Store) EarlyPlanned(ctx context.Context, id string) error {
	return call(&s.Recorder, s.EarlyPlannedFn, "EarlyPlanned", id)(ctx, id)
}

// SetReleaseStatus calls SetReleaseStatusFn.
func (s *Store) SetReleaseStatus(ctx context.Context, id string, to dispatcher.ReleaseStatus, from ...dispatcher.ReleaseStatus) (dispatcher.ReleaseStatus, error) {
	return call(&s.Recorder, s.SetReleaseStatusFn, "SetReleaseStatus", id, to, from)(ctx, id, to, from...)
}

// SnapshotComplete calls SnapshotCompleteFn.
func (s *Store) SnapshotComplete(ctx context.Context, id string) (bool, error) {
	return call(&s.Recorder, s.SnapshotCompleteFn, "SnapshotComplete", id)(ctx, id)
}

// SnapshotDone calls SnapshotDoneFn.
func (s *Store) SnapshotDone(ctx context.Context, id string) (dispatcher.ReleaseStatus, error) {
	return call(&s.Recorder, s.SnapshotDoneFn, "SnapshotDone", id)(ctx, id)
}

// Members calls MembersFn.
func (s *Store) Members(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error) {
	return call(&s.Recorder, s.MembersFn, "Members", listID, cursor, limit)(ctx, listID, cursor, limit)
}

// Suppressed calls SuppressedFn.
func (s *Store) Suppressed(ctx context.Context, emails []string) ([]bool, error) {
	return call(&s.Recorder, s.SuppressedFn, "Suppressed", emails)(ctx, emails)
}

// CreateDeliveries calls CreateDeliveriesFn.
func (s *Store) CreateDeliveries(ctx context.Context, rid string, ds []*dispatcher.Delivery) ([]string, error) {
	return call(&s.Recorder, s.CreateDeliveriesFn, "CreateDeliveries", rid, ds)(ctx, rid, ds)
}

// DeliveryIDs calls DeliveryIDsFn.
func (s *Store) DeliveryIDs(ctx context.Context, rid, cursor string, limit int) ([]string, string, error) {
	return call(&s.Recorder, s.DeliveryIDsFn, "DeliveryIDs", rid, cursor, limit)(ctx, rid, cursor, limit)
}

// FinishAndClaimBy calls FinishAndClaimByFn.
func (s *Store) FinishAndClaimBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	return call(&s.Recorder, s.FinishAndClaimByFn, "FinishAndClaimBy", rid, worker, outs, ids, staleBefore)(ctx, rid, worker, outs, ids, staleBefore)
}

// FinishBy calls FinishByFn.
func (s *Store) FinishBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
	return call(&s.Recorder, s.FinishByFn, "FinishBy", rid, worker, outs)(ctx, rid, worker, outs)
}

// RenewClaim calls RenewClaimFn.
func (s *Store) RenewClaim(ctx context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error) {
	return call(&s.Recorder, s.RenewClaimFn, "RenewClaim", rid, id, claimedAt)(ctx, rid, id, claimedAt)
}

// Transition calls TransitionFn.
func (s *Store) Transition(ctx context.Context, rid string, ids []string, to dispatcher.DeliveryStatus, from ...dispatcher.DeliveryStatus) ([]string, error) {
	return call(&s.Recorder, s.TransitionFn, "Transition", rid, ids, to, from)(ctx, rid, ids, to, from...)
}

// RequeueFailed calls RequeueFailedFn.
func (s *Store) RequeueFailed(ctx context.Context, rid string, ids []string) ([]dispatcher.Ref, error) {
	return call(&s.Recorder, s.RequeueFailedFn, "RequeueFailed", rid, ids)(ctx, rid, ids)
}

// MarkActive calls MarkActiveFn.
func (s *Store) MarkActive(ctx context.Context, rid string) error {
	return call(&s.Recorder, s.MarkActiveFn, "MarkActive", rid)(ctx, rid)
}

// UnmarkActive calls UnmarkActiveFn.
func (s *Store) UnmarkActive(ctx context.Context, rid string) error {
	return call(&s.Recorder, s.UnmarkActiveFn, "UnmarkActive", rid)(ctx, rid)
}

// ActiveReleases calls ActiveReleasesFn.
func (s *Store) ActiveReleases(ctx context.Context) ([]string, error) {
	return call(&s.Recorder, s.ActiveReleasesFn, "ActiveReleases")(ctx)
}

// Activity calls ActivityFn.
func (s *Store) Activity(ctx context.Context, rid string) (dispatcher.Activity, error) {
	return call(&s.Recorder, s.ActivityFn, "Activity", rid)(ctx, rid)
}

// Stalled calls StalledFn.
func (s *Store) Stalled(ctx context.Context, rid, cursor string, limit int, rule dispatcher.StallRule) ([]dispatcher.Ref, string, error) {
	return call(&s.Recorder, s.StalledFn, "Stalled", rid, cursor, limit, rule)(ctx, rid, cursor, limit, rule)
}

// TryLock calls TryLockFn.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	return call(&s.Recorder, s.TryLockFn, "TryLock", name, ttl)(ctx, name, ttl)
}

// Heartbeat calls HeartbeatFn.
func (s *Store) Heartbeat(ctx context.Context, worker string, ttl time.Duration) error {
	return call(&s.Recorder, s.HeartbeatFn, "Heartbeat", worker, ttl)(ctx, worker, ttl)
}

// Leave calls LeaveFn.
func (s *Store) Leave(ctx context.Context, worker string) error {
	return call(&s.Recorder, s.LeaveFn, "Leave", worker)(ctx, worker)
}

// DeadWorkers calls DeadWorkersFn.
func (s *Store) DeadWorkers(ctx context.Context, self string) ([]string, time.Time, error) {
	return call(&s.Recorder, s.DeadWorkersFn, "DeadWorkers", self)(ctx, self)
}

// ForgetWorkers calls ForgetWorkersFn.
func (s *Store) ForgetWorkers(ctx context.Context, workers []string) error {
	return call(&s.Recorder, s.ForgetWorkersFn, "ForgetWorkers", workers)(ctx, workers)
}
