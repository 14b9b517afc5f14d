// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";

/// @title Staking
/// @notice Stake the project token for a role (compute provider, prover, sequencer/validator).
///         Unstaking goes through an unbonding period, during which the tokens still count for
///         slashing but earn nothing. Rewards come from the staking-rewards allocation (the reward
///         reserve) at `rewardRate` tokens per second, shared pro rata to active stake × time by a
///         reward-per-token accumulator. Only the Rollup can slash, on a fault proven in a
///         finalized batch: `slashBurnBps` of the slashed amount is burned, the rest goes to the
///         reporter. Every parameter is set by the governance timelock.
/// @dev Accounting: balance = totalActive + totalUnbonding + rewardReserve + rewardsAllocated
///      + (tokens sent here directly, until `syncReserve` adds them to the reserve).
contract Staking {
    using SafeERC20 for IERC20;

    /// @notice Staking roles.
    enum Role {
        Provider,
        Prover,
        Sequencer
    }

    /// @notice One account's stake in one role.
    struct Position {
        uint128 active;
        uint128 unbonding;
        uint64 unbondingReleaseAt;
    }

    /// @notice Basis-point denominator.
    uint256 public constant BPS = 10_000;
    uint256 internal constant PRECISION = 1e18;

    /// @notice A zero address where an address is required.
    error ZeroAddress();
    /// @notice A zero amount.
    error ZeroAmount();
    /// @notice The caller is not the timelock.
    error NotTimelock(address caller);
    /// @notice The caller is not the rollup.
    error NotRollup(address caller);
    /// @notice The resulting active stake would be positive but below the role minimum.
    error BelowMinimumStake(uint256 resulting, uint256 minimum);
    /// @notice Unstaking more than the active stake.
    error InsufficientStake(uint256 active, uint256 requested);
    /// @notice Nothing is unbonding for this role.
    error NothingUnbonding();
    /// @notice The unbonding period has not ended.
    error StillUnbonding(uint256 releaseAt);
    /// @notice No rewards to claim.
    error NothingToClaim();
    /// @notice A basis-point value above 10_000.
    error InvalidBps(uint256 bps);
    /// @notice Withdrawing more than the unallocated reward reserve.
    error InsufficientReserve(uint256 reserve, uint256 requested);
    /// @notice An amount does not fit in 128 bits.
    error AmountTooLarge(uint256 amount);

    /// @notice `account` staked `amount` for `role`.
    event Staked(address indexed account, Role indexed role, uint256 amount);
    /// @notice `account` started unbonding `amount` of `role`, withdrawable at `releaseAt`.
    event UnstakeRequested(address indexed account, Role indexed role, uint256 amount, uint256 releaseAt);
    /// @notice `account` withdrew `amount` unbonded tokens of `role`.
    event Withdrawn(address indexed account, Role indexed role, uint256 amount);
    /// @notice `account` claimed `amount` rewards.
    event RewardsClaimed(address indexed account, uint256 amount);
    /// @notice `amount` was added to the reward reserve by `from` (`from` = this contract on sync).
    event RewardsFunded(address indexed from, uint256 amount);
    /// @notice The timelock took `amount` out of the unallocated reward reserve.
    event ReserveWithdrawn(address indexed to, uint256 amount);
    /// @notice `account` was slashed `amount` in `role`: `burned` burned, `rewarded` to `reporter`.
    event Slashed(
        address indexed account, Role indexed role, uint256 amount, uint256 burned, address indexed reporter, uint256 rewarded
    );
    /// @notice The minimum stake of `role` changed.
    event MinStakeSet(Role indexed role, uint256 amount);
    /// @notice The unbonding period changed.
    event UnbondingPeriodSet(uint256 secs);
    /// @notice The burned share of slashes changed.
    event SlashBurnBpsSet(uint256 bps);
    /// @notice The reward emission rate changed (tokens per second, base units).
    event RewardRateSet(uint256 rate);

    /// @notice The project token.
    ERC20Burnable public immutable token;
    /// @notice Governance timelock.
    address public immutable timelock;
    /// @notice The rollup, the only slasher.
    address public immutable rollup;

    /// @notice Minimum active stake per role (0 = none).
    mapping(Role => uint256) public minStake;
    /// @notice Seconds between `requestUnstake` and `withdraw`.
    uint256 public unbondingPeriod;
    /// @notice Burned share of a slash, in basis points; the rest goes to the reporter.
    uint256 public slashBurnBps;
    /// @notice Reward emission in base units per second while anything is staked.
    uint256 public rewardRate;

    /// @notice Unallocated reward tokens.
    uint256 public rewardReserve;
    /// @notice Rewards emitted into the accumulator and not yet claimed (incl. rounding dust).
    uint256 public rewardsAllocated;
    /// @notice Sum of active stakes.
    uint256 public totalActive;
    /// @notice Sum of unbonding stakes.
    uint256 public totalUnbonding;
    /// @notice Accumulated reward per staked token, scaled by 1e18.
    uint256 public rewardPerTokenStored;
    /// @notice Last accumulator update.
    uint256 public lastUpdate;

    mapping(address => mapping(Role => Position)) internal _positions;
    /// @notice Sum of an account's active stakes over all roles (its reward weight).
    mapping(address => uint256) public weightOf;
    mapping(address => uint256) internal _rewardPerTokenPaid;
    mapping(address => uint256) internal _rewards;

    /// @param token_ The project token.
    /// @param timelock_ Governance timelock.
    /// @param rollup_ The rollup (slasher).
    /// @param unbondingPeriod_ Initial unbonding period in seconds.
    /// @param slashBurnBps_ Initial burned share of slashes.
    /// @param rewardRate_ Initial emission rate (base units per second).
    /// @param minProviderStake Initial minimum provider stake (base units).
    constructor(
        ERC20Burnable token_,
        address timelock_,
        address rollup_,
        uint256 unbondingPeriod_,
        uint256 slashBurnBps_,
        uint256 rewardRate_,
        uint256 minProviderStake
    ) {
        if (address(token_) == address(0) || timelock_ == address(0) || rollup_ == address(0)) revert ZeroAddress();
        if (slashBurnBps_ > BPS) revert InvalidBps(slashBurnBps_);
        token = token_;
        timelock = timelock_;
        rollup = rollup_;
        unbondingPeriod = unbondingPeriod_;
        slashBurnBps = slashBurnBps_;
        rewardRate = rewardRate_;
        minStake[Role.Provider] = minProviderStake;
        lastUpdate = block.timestamp;
        // Genesis: the staking-rewards allocation is minted here before this constructor runs.
        uint256 bal = token_.balanceOf(address(this));
        rewardReserve = bal;
        emit UnbondingPeriodSet(unbondingPeriod_);
        emit SlashBurnBpsSet(slashBurnBps_);
        emit RewardRateSet(rewardRate_);
        emit MinStakeSet(Role.Provider, minProviderStake);
        if (bal > 0) emit RewardsFunded(address(0), bal);
    }

    modifier onlyTimelock() {
        if (msg.sender != timelock) revert NotTimelock(msg.sender);
        _;
    }

    modifier updateReward(address account) {
        _updateGlobal();
        if (account != address(0)) _updateAccount(account);
        _;
    }

    // ---------------------------------------------------------------- views

    /// @notice An account's position in a role.
    /// @param account The staker.
    /// @param role The role.
    /// @return The position.
    function position(address account, Role role) external view returns (Position memory) {
        return _positions[account][role];
    }

    /// @notice An account's active stake in a role.
    /// @param account The staker.
    /// @param role The role.
    /// @return The active stake.
    function activeStake(address account, Role role) external view returns (uint256) {
        return _positions[account][role].active;
    }

    /// @notice Reward per token including emissions since the last update.
    /// @return The accumulator value (scaled by 1e18).
    function rewardPerToken() public view returns (uint256) {
        (uint256 rpt,) = _pending();
        return rpt;
    }

    /// @notice Rewards `account` could claim now.
    /// @param account The staker.
    /// @return The claimable rewards.
    function earned(address account) public view returns (uint256) {
        return _rewards[account] + (weightOf[account] * (rewardPerToken() - _rewardPerTokenPaid[account])) / PRECISION;
    }

    /// @notice Tokens held for rewards: unallocated reserve plus allocated-but-unclaimed rewards.
    /// @return The amount owed to (future) rewards.
    function rewardsOwed() external view returns (uint256) {
        return rewardReserve + rewardsAllocated;
    }

    // ---------------------------------------------------------------- staker actions

    /// @notice Stakes `amount` for `role` (caller must approve first).
    /// @param role The role.
    /// @param amount Amount in base units.
    function stake(Role role, uint256 amount) external updateReward(msg.sender) {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender][role];
        uint256 next = uint256(p.active) + amount;
        if (next > type(uint128).max) revert AmountTooLarge(next);
        if (next < minStake[role]) revert BelowMinimumStake(next, minStake[role]);
        p.active = uint128(next);
        weightOf[msg.sender] += amount;
        totalActive += amount;
        emit Staked(msg.sender, role, amount);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Starts unbonding `amount` of the caller's `role` stake. A new request adds to the
    ///         unbonding amount and restarts the period.
    /// @param role The role.
    /// @param amount Amount in base units.
    function requestUnstake(Role role, uint256 amount) external updateReward(msg.sender) {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender][role];
        if (amount > p.active) revert InsufficientStake(p.active, amount);
        uint256 rest = p.active - amount;
        if (rest != 0 && rest < minStake[role]) revert BelowMinimumStake(rest, minStake[role]);
        p.active = uint128(rest);
        p.unbonding += uint128(amount);
        uint256 releaseAt = block.timestamp + unbondingPeriod;
        p.unbondingReleaseAt = uint64(releaseAt);
        weightOf[msg.sender] -= amount;
        totalActive -= amount;
        totalUnbonding += amount;
        emit UnstakeRequested(msg.sender, role, amount, releaseAt);
    }

    /// @notice Withdraws the caller's unbonded `role` stake after the unbonding period.
    /// @param role The role.
    /// @return amount The amount withdrawn.
    function withdraw(Role role) external returns (uint256 amount) {
        Position storage p = _positions[msg.sender][role];
        amount = p.unbonding;
        if (amount == 0) revert NothingUnbonding();
        if (block.timestamp < p.unbondingReleaseAt) revert StillUnbonding(p.unbondingReleaseAt);
        p.unbonding = 0;
        p.unbondingReleaseAt = 0;
        totalUnbonding -= amount;
        emit Withdrawn(msg.sender, role, amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
    }

    /// @notice Claims the caller's accrued rewards.
    /// @return amount The amount paid.
    function claimRewards() external updateReward(msg.sender) returns (uint256 amount) {
        amount = _rewards[msg.sender];
        if (amount == 0) revert NothingToClaim();
        _rewards[msg.sender] = 0;
        rewardsAllocated -= amount;
        emit RewardsClaimed(msg.sender, amount);
        IERC20(address(token)).safeTransfer(msg.sender, amount);
    }

    /// @notice Adds `amount` to the reward reserve (caller must approve first).
    /// @param amount Amount in base units.
    function fundRewards(uint256 amount) external updateReward(address(0)) {
        if (amount == 0) revert ZeroAmount();
        rewardReserve += amount;
        emit RewardsFunded(msg.sender, amount);
        IERC20(address(token)).safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Adds tokens sent here by plain transfer to the reward reserve (anyone may call).
    /// @return surplus The amount added.
    function syncReserve() external updateReward(address(0)) returns (uint256 surplus) {
        uint256 accounted = totalActive + totalUnbonding + rewardReserve + rewardsAllocated;
        uint256 bal = token.balanceOf(address(this));
        if (bal <= accounted) revert ZeroAmount();
        surplus = bal - accounted;
        rewardReserve += surplus;
        emit RewardsFunded(address(this), surplus);
    }

    // ---------------------------------------------------------------- rollup

    /// @notice Slashes up to `amount` of `account`'s `role` stake (active first, then unbonding).
    ///         Rollup only, on a fault proven in a finalized batch. Never reverts for a short stake:
    ///         it slashes what there is.
    /// @param account The faulty staker.
    /// @param role The role whose stake is slashed.
    /// @param amount Requested slash amount.
    /// @param reporter Receives the non-burned share (if zero, everything is burned).
    /// @return slashed The amount actually slashed.
    function slash(address account, Role role, uint256 amount, address reporter)
        external
        updateReward(account)
        returns (uint256 slashed)
    {
        if (msg.sender != rollup) revert NotRollup(msg.sender);
        Position storage p = _positions[account][role];
        uint256 fromActive = amount < p.active ? amount : p.active;
        if (fromActive > 0) {
            p.active -= uint128(fromActive);
            weightOf[account] -= fromActive;
            totalActive -= fromActive;
        }
        uint256 restAmount = amount - fromActive;
        uint256 fromUnbonding = restAmount < p.unbonding ? restAmount : p.unbonding;
        if (fromUnbonding > 0) {
            p.unbonding -= uint128(fromUnbonding);
            totalUnbonding -= fromUnbonding;
        }
        slashed = fromActive + fromUnbonding;
        uint256 burned = reporter == address(0) ? slashed : (slashed * slashBurnBps) / BPS;
        uint256 rewarded = slashed - burned;
        emit Slashed(account, role, slashed, burned, reporter, rewarded);
        if (burned > 0) token.burn(burned);
        if (rewarded > 0) IERC20(address(token)).safeTransfer(reporter, rewarded);
    }

    // ---------------------------------------------------------------- governance

    /// @notice Sets the minimum active stake of `role` (timelock only).
    /// @param role The role.
    /// @param amount Minimum in base units.
    function setMinStake(Role role, uint256 amount) external onlyTimelock {
        minStake[role] = amount;
        emit MinStakeSet(role, amount);
    }

    /// @notice Sets the unbonding period (timelock only).
    /// @param secs Seconds.
    function setUnbondingPeriod(uint256 secs) external onlyTimelock {
        unbondingPeriod = secs;
        emit UnbondingPeriodSet(secs);
    }

    /// @notice Sets the burned share of slashes (timelock only).
    /// @param bps Basis points, at most 10_000.
    function setSlashBurnBps(uint256 bps) external onlyTimelock {
        if (bps > BPS) revert InvalidBps(bps);
        slashBurnBps = bps;
        emit SlashBurnBpsSet(bps);
    }

    /// @notice Sets the reward emission rate (timelock only); past emissions are settled first.
    /// @param rate Base units per second.
    function setRewardRate(uint256 rate) external onlyTimelock updateReward(address(0)) {
        rewardRate = rate;
        emit RewardRateSet(rate);
    }

    /// @notice Withdraws unallocated reward reserve (timelock only).
    /// @param to Recipient.
    /// @param amount Amount in base units.
    function withdrawReserve(address to, uint256 amount) external onlyTimelock updateReward(address(0)) {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        if (amount > rewardReserve) revert InsufficientReserve(rewardReserve, amount);
        rewardReserve -= amount;
        emit ReserveWithdrawn(to, amount);
        IERC20(address(token)).safeTransfer(to, amount);
    }

    // ---------------------------------------------------------------- internals

    function _pending() internal view returns (uint256 rpt, uint256 emitted) {
        rpt = rewardPerTokenStored;
        if (block.timestamp <= lastUpdate || totalActive == 0) return (rpt, 0);
        emitted = (block.timestamp - lastUpdate) * rewardRate;
        if (emitted > rewardReserve) emitted = rewardReserve;
        rpt += (emitted * PRECISION) / totalActive;
    }

    function _updateGlobal() internal {
        (uint256 rpt, uint256 emitted) = _pending();
        if (emitted > 0) {
            rewardReserve -= emitted;
            rewardsAllocated += emitted;
            rewardPerTokenStored = rpt;
        }
        lastUpdate = block.timestamp;
    }

    function _updateAccount(address account) internal {
        uint256 rpt = rewardPerTokenStored;
        _rewards[account] += (weightOf[account] * (rpt - _rewardPerTokenPaid[account])) / PRECISION;
        _rewardPerTokenPaid[account] = rpt;
    }
}
