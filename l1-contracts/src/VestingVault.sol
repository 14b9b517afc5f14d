// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title VestingVault
/// @notice Holds the genesis allocations whose `holder = "vesting"` and releases them to their
///         beneficiaries on a cliff + linear or cliff + monthly-step schedule. A month is 30 days
///         (2_592_000 s). The schedules are fixed in the constructor; the vault must already hold
///         their sum (the token mints it here at genesis). Revocable schedules can be revoked by the
///         timelock: the unvested part goes to the treasury, the vested part stays claimable.
/// @dev Vested amount at time t for a schedule with start S, cliff C months, vesting V months:
///      unlocked: total; linear: 0 before S+C·M, then total·min(t−S−C·M, V·M)/(V·M);
///      monthly: 0 before S+C·M, then total·min(⌊(t−S−C·M)/M⌋, V)/V. So the total duration is
///      C+V months and, with a cliff, the first monthly unlock is one month after the cliff ends.
contract VestingVault {
    using SafeERC20 for IERC20;

    /// @notice Seconds in a vesting month (30 days).
    uint256 public constant MONTH = 30 days;

    /// @notice Release kinds, as in the preset TOML `release` field.
    enum Release {
        Unlocked,
        Monthly,
        Linear
    }

    /// @notice Constructor input for one schedule.
    struct ScheduleInit {
        address beneficiary;
        uint256 total;
        Release release;
        uint32 cliffMonths;
        uint32 vestingMonths;
        bool revocable;
    }

    /// @notice Stored schedule state.
    struct Schedule {
        address beneficiary;
        Release release;
        bool revocable;
        bool revoked;
        uint32 cliffMonths;
        uint32 vestingMonths;
        uint128 total;
        uint128 claimed;
        uint128 vestedAtRevoke;
    }

    /// @notice The vault holds less than the sum of the schedules.
    error Underfunded(uint256 balance, uint256 required);
    /// @notice A zero address where an address is required.
    error ZeroAddress();
    /// @notice A schedule with zero tokens.
    error ZeroAmount();
    /// @notice A monthly/linear schedule with zero vesting months.
    error ZeroVestingMonths(uint256 index);
    /// @notice The schedule id does not exist.
    error UnknownSchedule(uint256 id);
    /// @notice The caller is not the schedule's beneficiary.
    error NotBeneficiary(uint256 id, address caller);
    /// @notice The caller is not the timelock.
    error NotTimelock(address caller);
    /// @notice The schedule is not revocable.
    error NotRevocable(uint256 id);
    /// @notice The schedule was already revoked.
    error AlreadyRevoked(uint256 id);
    /// @notice Nothing is claimable now.
    error NothingToClaim(uint256 id);
    /// @notice An amount does not fit in 128 bits.
    error AmountTooLarge(uint256 amount);

    /// @notice A schedule was created (constructor only).
    event ScheduleCreated(
        uint256 indexed id,
        address indexed beneficiary,
        uint256 total,
        Release release,
        uint32 cliffMonths,
        uint32 vestingMonths,
        bool revocable
    );
    /// @notice `amount` was released to the beneficiary of schedule `id`.
    event Claimed(uint256 indexed id, address indexed beneficiary, uint256 amount);
    /// @notice Schedule `id` was revoked; `unvested` went to the treasury.
    event Revoked(uint256 indexed id, uint256 vested, uint256 unvested);
    /// @notice The beneficiary of schedule `id` changed.
    event BeneficiaryChanged(uint256 indexed id, address indexed previous, address indexed next);

    /// @notice The vested token.
    IERC20 public immutable token;
    /// @notice Receives revoked unvested tokens.
    address public immutable treasury;
    /// @notice Governance timelock (the only revoker).
    address public immutable timelock;
    /// @notice Vesting start (token generation event), unix seconds.
    uint64 public immutable start;
    /// @notice Sum of all schedule totals.
    uint256 public immutable totalAllocated;

    Schedule[] internal _schedules;

    /// @param token_ The token (must already be held by this contract in full).
    /// @param treasury_ Recipient of revoked tokens.
    /// @param timelock_ Governance timelock.
    /// @param start_ Vesting start timestamp.
    /// @param inits The schedules.
    constructor(IERC20 token_, address treasury_, address timelock_, uint64 start_, ScheduleInit[] memory inits) {
        if (address(token_) == address(0) || treasury_ == address(0) || timelock_ == address(0)) {
            revert ZeroAddress();
        }
        token = token_;
        treasury = treasury_;
        timelock = timelock_;
        start = start_;
        uint256 sum;
        for (uint256 i = 0; i < inits.length; i++) {
            ScheduleInit memory s = inits[i];
            if (s.beneficiary == address(0)) revert ZeroAddress();
            if (s.total == 0) revert ZeroAmount();
            if (s.total > type(uint128).max) revert AmountTooLarge(s.total);
            if (s.release != Release.Unlocked && s.vestingMonths == 0) revert ZeroVestingMonths(i);
            _schedules.push(
                Schedule({
                    beneficiary: s.beneficiary,
                    release: s.release,
                    revocable: s.revocable,
                    revoked: false,
                    cliffMonths: s.cliffMonths,
                    vestingMonths: s.vestingMonths,
                    total: uint128(s.total),
                    claimed: 0,
                    vestedAtRevoke: 0
                })
            );
            sum += s.total;
            emit ScheduleCreated(i, s.beneficiary, s.total, s.release, s.cliffMonths, s.vestingMonths, s.revocable);
        }
        uint256 bal = token_.balanceOf(address(this));
        if (bal < sum) revert Underfunded(bal, sum);
        totalAllocated = sum;
    }

    /// @notice Number of schedules.
    /// @return The count.
    function scheduleCount() external view returns (uint256) {
        return _schedules.length;
    }

    /// @notice A schedule's stored state.
    /// @param id Schedule id.
    /// @return The schedule.
    function schedule(uint256 id) external view returns (Schedule memory) {
        return _get(id);
    }

    /// @notice Amount of schedule `id` vested at timestamp `t` (revocation freezes it).
    /// @param id Schedule id.
    /// @param t Unix timestamp.
    /// @return The vested amount.
    function vestedAt(uint256 id, uint256 t) public view returns (uint256) {
        Schedule storage s = _get(id);
        if (s.revoked) return s.vestedAtRevoke;
        return _vested(s, t);
    }

    /// @notice Amount of schedule `id` vested now.
    /// @param id Schedule id.
    /// @return The vested amount.
    function vested(uint256 id) external view returns (uint256) {
        return vestedAt(id, block.timestamp);
    }

    /// @notice Amount of schedule `id` claimable now.
    /// @param id Schedule id.
    /// @return Vested minus claimed.
    function claimable(uint256 id) public view returns (uint256) {
        return vestedAt(id, block.timestamp) - _get(id).claimed;
    }

    /// @notice Releases the claimable amount of schedule `id` to its beneficiary.
    /// @param id Schedule id (caller must be its beneficiary).
    /// @return amount The amount transferred.
    function claim(uint256 id) external returns (uint256 amount) {
        Schedule storage s = _get(id);
        if (msg.sender != s.beneficiary) revert NotBeneficiary(id, msg.sender);
        amount = claimable(id);
        if (amount == 0) revert NothingToClaim(id);
        s.claimed += uint128(amount);
        emit Claimed(id, s.beneficiary, amount);
        token.safeTransfer(s.beneficiary, amount);
    }

    /// @notice Moves schedule `id` to a new beneficiary (called by the current one).
    /// @param id Schedule id.
    /// @param next The new beneficiary.
    function setBeneficiary(uint256 id, address next) external {
        Schedule storage s = _get(id);
        if (msg.sender != s.beneficiary) revert NotBeneficiary(id, msg.sender);
        if (next == address(0)) revert ZeroAddress();
        emit BeneficiaryChanged(id, s.beneficiary, next);
        s.beneficiary = next;
    }

    /// @notice Revokes a revocable schedule (timelock only): the unvested part goes to the treasury.
    /// @param id Schedule id.
    function revoke(uint256 id) external {
        if (msg.sender != timelock) revert NotTimelock(msg.sender);
        Schedule storage s = _get(id);
        if (!s.revocable) revert NotRevocable(id);
        if (s.revoked) revert AlreadyRevoked(id);
        uint256 v = _vested(s, block.timestamp);
        uint256 unvested = s.total - v;
        s.revoked = true;
        s.vestedAtRevoke = uint128(v);
        emit Revoked(id, v, unvested);
        if (unvested > 0) token.safeTransfer(treasury, unvested);
    }

    function _get(uint256 id) internal view returns (Schedule storage) {
        if (id >= _schedules.length) revert UnknownSchedule(id);
        return _schedules[id];
    }

    function _vested(Schedule storage s, uint256 t) internal view returns (uint256) {
        if (s.release == Release.Unlocked) return s.total;
        uint256 cliffEnd = uint256(start) + uint256(s.cliffMonths) * MONTH;
        if (t < cliffEnd) return 0;
        uint256 elapsed = t - cliffEnd;
        uint256 months = s.vestingMonths;
        if (s.release == Release.Monthly) {
            uint256 steps = elapsed / MONTH;
            if (steps >= months) return s.total;
            return (uint256(s.total) * steps) / months;
        }
        uint256 duration = months * MONTH;
        if (elapsed >= duration) return s.total;
        return (uint256(s.total) * elapsed) / duration;
    }
}
