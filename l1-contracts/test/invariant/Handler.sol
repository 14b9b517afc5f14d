// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Test} from "../base/Test.sol";
import {Deployer} from "../../script/Deployer.sol";
import {CtmToken} from "../../src/Token.sol";
import {VestingVault} from "../../src/VestingVault.sol";
import {Treasury} from "../../src/Treasury.sol";
import {Staking} from "../../src/Staking.sol";
import {Guardian} from "../../src/Guardian.sol";
import {Rollup} from "../../src/Rollup.sol";
import {Bridge} from "../../src/Bridge.sol";
import {WithdrawalTree} from "../../src/lib/WithdrawalTree.sol";
import {CommitInput, Slash} from "../../src/RollupTypes.sol";

/// Random-action handler for the invariant suite; keeps a ghost model of the bridge and stakes
/// and raises flags when a property is broken at the moment it can be observed.
contract Handler is Test {
    uint256 internal constant E18 = 1e18;

    CtmToken public token;
    VestingVault public vault;
    Treasury public treasury;
    Staking public staking;
    Guardian public guardian;
    Rollup public rollup;
    Bridge public bridge;
    address public tl;
    address public liq;
    address public seq;
    address[3] public signers;
    address[4] public actors;

    // ghost bridge model
    uint256 public ghostDeposited;
    uint256 public ghostCredited;
    uint256 public ghostWithdrawn;
    uint256 public ghostFeesBurned;
    uint256 public ghostRecovered;
    uint256 public modelL2Committed; // credited − withdrawals − fees over committed batches

    // ghost stakes: active + unbonding per actor and role, summed
    uint256 public ghostStake;

    // flags
    bool public supplyGrew;
    bool public doubleClaim;
    bool public vestedDecreased;
    bool public nonTimelockChangedParam;
    bool public guardianMovedFunds;
    uint256 public lastSupply;

    // per batch
    mapping(uint256 => bytes32[]) internal _leaves;
    mapping(uint256 => address[]) internal _recipients;
    mapping(uint256 => uint256[]) internal _amounts;
    mapping(uint256 => uint256) internal _credit;
    mapping(uint256 => uint256) internal _fees;
    mapping(uint256 => mapping(uint256 => uint256)) public claimCount;
    mapping(uint256 => uint256) internal _lastVested;

    uint256 public calls;
    uint256 public finalizedCount;
    uint256 public claimedCount;

    constructor(Deployer.Deployment memory d, address liq_, address seq_, address[3] memory signers_) {
        token = d.token;
        vault = d.vault;
        treasury = d.treasury;
        staking = d.staking;
        guardian = d.guardian;
        rollup = d.rollup;
        bridge = d.bridge;
        tl = address(d.timelock);
        liq = liq_;
        seq = seq_;
        signers = signers_;
        actors = [address(0xAA1), address(0xAA2), address(0xAA3), address(0xAA4)];
        lastSupply = token.totalSupply();
        // fund actors from the liquidity holder
        for (uint256 i = 0; i < 4; i++) {
            vm.prank(liq_);
            token.transfer(actors[i], 1_000_000 * E18);
        }
    }

    modifier tracked() {
        calls++;
        _;
        uint256 s = token.totalSupply();
        if (s > lastSupply) supplyGrew = true;
        lastSupply = s;
        _checkVesting();
    }

    function _actor(uint256 seed) internal view returns (address) {
        return actors[seed % 4];
    }

    // ------------------------------------------------------------------ bridge / rollup

    function deposit(uint256 who, uint256 amount) external tracked {
        address a = _actor(who);
        amount = bound(amount, 1, 1000 * E18);
        if (token.balanceOf(a) < amount) return;
        vm.startPrank(a);
        token.approve(address(bridge), amount);
        try bridge.deposit(a, amount) {
            ghostDeposited += amount;
        } catch {}
        vm.stopPrank();
    }

    function sendMessage(uint256 who) external tracked {
        vm.prank(_actor(who));
        try rollup.sendMessage(_actor(who + 1), hex"1234") {} catch {}
    }

    function commit(uint256 count, uint256 rejectSeed, uint256 nW, uint256 wSeed, uint256 fee) external tracked {
        uint256 start = rollup.committedQueueHead();
        uint256 queued = rollup.queueLength() - start;
        count = bound(count, 0, queued < 16 ? queued : 16);
        uint64 index = rollup.lastCommittedBatch() + 1;
        CommitInput memory c;
        c.batchIndex = index;
        c.newStateRoot = keccak256(abi.encode(index, calls));
        c.queueCount = uint64(count);
        c.batchData = abi.encode(calls);
        c.slashes = new Slash[](0);
        uint256 credit;
        (c.rejectedDeposits, credit) = _rejections(start, count, rejectSeed);
        uint256 l2 = modelL2Committed + credit;
        fee = bound(fee, 0, l2 / 10);
        c.feesBurned = fee;
        (bytes32[] memory leaves, address[] memory rc, uint256[] memory am, uint256 left) =
            _withdrawals(bound(nW, 0, 3), wSeed, l2 - fee);
        if (leaves.length > 0) (c.withdrawalRoot,) = _tree(leaves, 0);
        vm.prank(seq);
        try rollup.commitBatch(c) {
            modelL2Committed = left;
            delete _leaves[index];
            delete _recipients[index];
            delete _amounts[index];
            for (uint256 i = 0; i < leaves.length; i++) {
                _leaves[index].push(leaves[i]);
                _recipients[index].push(rc[i]);
                _amounts[index].push(am[i]);
            }
            _credit[index] = credit;
            _fees[index] = fee;
        } catch {}
    }

    function _rejections(uint256 start, uint256 count, uint256 seed)
        internal
        view
        returns (uint64[] memory rej, uint256 credit)
    {
        rej = new uint64[](count);
        uint256 nr;
        for (uint256 i = start; i < start + count; i++) {
            if (!rollup.isDeposit(i)) continue;
            if ((seed >> (i % 128)) & 3 == 0) rej[nr++] = uint64(i);
            else credit += rollup.queueAmount(i);
        }
        assembly {
            mstore(rej, nr)
        }
    }

    function _withdrawals(uint256 nW, uint256 wSeed, uint256 l2)
        internal
        view
        returns (bytes32[] memory leaves, address[] memory rc, uint256[] memory am, uint256 left)
    {
        leaves = new bytes32[](nW);
        rc = new address[](nW);
        am = new uint256[](nW);
        left = l2;
        for (uint256 i = 0; i < nW; i++) {
            uint256 amt = bound(uint256(keccak256(abi.encode(wSeed, i))), 0, left / 2);
            left -= amt;
            rc[i] = _actor(wSeed + i);
            am[i] = amt;
            leaves[i] = amt == 0 ? bytes32(0) : WithdrawalTree.leaf(i, rc[i], amt);
        }
    }

    function prove(uint256 seed) external tracked {
        uint256 lo = uint256(rollup.lastFinalizedBatch()) + 1;
        uint256 hi = rollup.lastCommittedBatch();
        if (hi < lo) return;
        uint256 b = bound(seed, lo, hi);
        vm.prank(_actor(seed));
        try rollup.proveBatch(b, hex"01") {} catch {}
    }

    function finalize() external tracked {
        uint256 b = uint256(rollup.lastFinalizedBatch()) + 1;
        try rollup.finalizeBatch(b) {
            ghostCredited += _credit[b];
            ghostFeesBurned += _fees[b];
            finalizedCount++;
        } catch {}
    }

    function claim(uint256 seed, uint256 idxSeed) external tracked {
        uint256 fin = rollup.lastFinalizedBatch();
        if (fin == 0) return;
        uint256 b = bound(seed, 1, fin);
        uint256 n = _leaves[b].length;
        if (n == 0) return;
        uint256 i = idxSeed % n;
        if (_amounts[b][i] == 0) return;
        (, bytes32[] memory proof) = _tree(_leaves[b], i);
        try bridge.claimWithdrawal(b, i, _recipients[b][i], _amounts[b][i], proof) {
            ghostWithdrawn += _amounts[b][i];
            claimCount[b][i] += 1;
            claimedCount++;
            if (claimCount[b][i] > 1) doubleClaim = true;
        } catch {}
    }

    function recover(uint256 seed) external tracked {
        uint256 len = rollup.queueLength();
        if (len == 0) return;
        uint256 i = seed % len;
        uint256 amt = rollup.queueAmount(i);
        try bridge.recoverDeposit(i) {
            ghostRecovered += amt;
        } catch {}
    }

    function warp(uint256 secs) external tracked {
        vm.warp(block.timestamp + bound(secs, 1, 2 days));
    }

    // ------------------------------------------------------------------ staking

    function stake(uint256 who, uint256 role, uint256 amount) external tracked {
        address a = _actor(who);
        amount = bound(amount, 1000 * E18, 20_000 * E18);
        if (token.balanceOf(a) < amount) return;
        vm.startPrank(a);
        token.approve(address(staking), amount);
        try staking.stake(Staking.Role(role % 3), amount) {
            ghostStake += amount;
        } catch {}
        vm.stopPrank();
    }

    function unstake(uint256 who, uint256 role, uint256 amount) external tracked {
        address a = _actor(who);
        uint256 active = staking.activeStake(a, Staking.Role(role % 3));
        if (active == 0) return;
        amount = bound(amount, 1, active);
        vm.prank(a);
        try staking.requestUnstake(Staking.Role(role % 3), amount) {} catch {}
    }

    function withdrawStake(uint256 who, uint256 role) external tracked {
        address a = _actor(who);
        vm.prank(a);
        try staking.withdraw(Staking.Role(role % 3)) returns (uint256 amt) {
            ghostStake -= amt;
        } catch {}
    }

    function claimRewards(uint256 who) external tracked {
        vm.prank(_actor(who));
        try staking.claimRewards() {} catch {}
    }

    // ------------------------------------------------------------------ vesting / treasury

    function claimVesting(uint256 id) external tracked {
        id = id % vault.scheduleCount();
        vm.prank(vault.schedule(id).beneficiary);
        try vault.claim(id) {} catch {}
    }

    function revokeVesting(uint256 id) external tracked {
        id = id % vault.scheduleCount();
        vm.prank(tl);
        try vault.revoke(id) {} catch {}
    }

    function treasuryBurn(uint256 amount) external tracked {
        uint256 bal = token.balanceOf(address(treasury));
        if (bal == 0) return;
        vm.prank(tl);
        treasury.burn(bound(amount, 1, bal / 100 + 1));
    }

    function _checkVesting() internal {
        uint256 n = vault.scheduleCount();
        for (uint256 i = 0; i < n; i++) {
            uint256 v = vault.vested(i);
            if (v < _lastVested[i]) vestedDecreased = true;
            _lastVested[i] = v;
        }
    }

    // ------------------------------------------------------------------ guardian / governance

    function guardianAct(uint256 action, uint256 s1, uint256 s2) external tracked {
        address a = signers[s1 % 3];
        address b = signers[(s1 % 3 + 1 + s2 % 2) % 3];
        uint256[5] memory before = _balances();
        vm.prank(a);
        uint256 id = guardian.propose(Guardian.Action(action % 4));
        vm.prank(b);
        guardian.confirm(id);
        uint256[5] memory afterB = _balances();
        for (uint256 i = 0; i < 5; i++) {
            if (before[i] != afterB[i]) guardianMovedFunds = true;
        }
    }

    function _balances() internal view returns (uint256[5] memory b) {
        b[0] = token.balanceOf(address(bridge));
        b[1] = token.balanceOf(address(treasury));
        b[2] = token.balanceOf(address(staking));
        b[3] = token.balanceOf(address(rollup));
        b[4] = token.balanceOf(address(vault));
    }

    /// A random non-timelock caller (actor, guardian signer, guardian contract, sequencer) tries a
    /// random parameter setter or fund mover.
    function tryParam(uint256 which, uint256 who) external tracked {
        address[7] memory callers =
            [actors[0], actors[1], signers[0], signers[1], address(guardian), seq, liq];
        address caller = callers[who % 7];
        bytes[14] memory cs = [
            abi.encodeCall(Rollup.setVerifier, (caller)),
            abi.encodeCall(Rollup.setSequencer, (caller)),
            abi.encodeCall(Rollup.setGuardian, (caller)),
            abi.encodeCall(Rollup.setForceInclusionDeadline, (1)),
            abi.encodeCall(Rollup.setProofTimeout, (2)),
            abi.encodeCall(Rollup.setEscapeWindow, (3 days)),
            abi.encodeCall(Rollup.setProverReward, (1)),
            abi.encodeCall(Rollup.withdrawProverPool, (caller, 1)),
            abi.encodeCall(Staking.setRewardRate, (1)),
            abi.encodeCall(Staking.setSlashBurnBps, (1)),
            abi.encodeCall(Staking.withdrawReserve, (caller, 1)),
            abi.encodeCall(Treasury.burn, (1)),
            abi.encodeWithSelector(Treasury.transfer.selector, address(token), caller, 1),
            abi.encodeCall(VestingVault.revoke, (1))
        ];
        uint256 k = which % 14;
        address target = k < 8 ? address(rollup) : k < 11 ? address(staking) : k < 13 ? address(treasury) : address(vault);
        vm.prank(caller);
        (bool ok,) = target.call(cs[k]);
        if (ok) nonTimelockChangedParam = true;
    }

    // ------------------------------------------------------------------ tree helper

    function _tree(bytes32[] memory leaves, uint256 idx) internal pure returns (bytes32 root, bytes32[] memory proof) {
        uint256 n = 1;
        uint256 depth;
        while (n < leaves.length) {
            n <<= 1;
            depth++;
        }
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i = 0; i < leaves.length; i++) {
            level[i] = leaves[i];
        }
        proof = new bytes32[](depth);
        uint256 pos = idx;
        for (uint256 k = 0; k < depth; k++) {
            proof[k] = level[pos ^ 1];
            bytes32[] memory next = new bytes32[](level.length / 2);
            for (uint256 i = 0; i < next.length; i++) {
                next[i] = keccak256(abi.encodePacked(level[2 * i], level[2 * i + 1]));
            }
            level = next;
            pos >>= 1;
        }
        root = level[0];
    }
}
