// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "../base/Fixture.sol";
import {Handler} from "./Handler.sol";
import {Rollup} from "../../src/Rollup.sol";

/// Stateful invariants over random sequences of deposits, batches (commit / prove / finalize with
/// withdrawals, rejected deposits and fees), claims, recoveries, staking, vesting, treasury burns,
/// guardian actions and unauthorized parameter changes. Uses the mock verifier (test only).
contract InvariantsTest is Fixture {
    Handler internal h;
    uint256 internal genesisSupply;
    uint256 internal proverReward0;
    uint64 internal deadline0;
    uint64 internal timeout0;
    uint64 internal window0;

    function setUp() public {
        _deployPreset("computronium");
        _fundProverPool(10_000 * E18);
        genesisSupply = token.totalSupply();
        h = new Handler(d, liq, seq, [g1, g2, g3]);
        proverReward0 = rollup.proverReward();
        deadline0 = rollup.forceInclusionDeadline();
        timeout0 = rollup.proofTimeout();
        window0 = rollup.escapeWindow();
        targetContract(address(h));
    }

    /// The handler's paths really succeed (guards against an invariant run that only reverts).
    function testHandlerPathsWork() public {
        h.deposit(0, 500 * E18);
        h.deposit(1, 300 * E18);
        h.commit(2, 1, 2, 7, 10 * E18);
        h.prove(1);
        h.finalize();
        assertEq(h.finalizedCount(), 1, "finalized");
        assertGe(bridge.totalCredited(), 1, "credited");
        h.claim(1, 0);
        h.claim(1, 1);
        assertGe(h.claimedCount(), 1, "claimed");
        h.claim(1, 0);
        assertFalse(h.doubleClaim(), "no double claim");
        h.stake(0, 0, 2000 * E18);
        h.warp(3 days);
        h.claimRewards(0);
        h.guardianAct(0, 0, 0);
        h.tryParam(3, 2);
        invariant_bridgeAccounting();
        invariant_stakingAccounting();
        invariant_onlyTimelockAndGuardianHarmless();
    }

    /// Total supply never grows (and never exceeds genesis).
    function invariant_supplyNeverGrows() public view {
        assertFalse(h.supplyGrew(), "supply grew");
        assertLe(token.totalSupply(), genesisSupply, "above genesis");
    }

    /// Tokens locked in the bridge for L2 == L2 credited − withdrawn − burned (as reported),
    /// and the bridge holds exactly deposits − refunds − withdrawals − burns.
    function invariant_bridgeAccounting() public view {
        assertEq(bridge.l2Supply(), h.ghostCredited() - h.ghostWithdrawn() - h.ghostFeesBurned(), "l2 supply");
        assertEq(bridge.totalCredited(), h.ghostCredited(), "credited");
        assertEq(bridge.totalWithdrawn(), h.ghostWithdrawn(), "withdrawn");
        assertEq(bridge.totalFeesBurned(), h.ghostFeesBurned(), "burned");
        assertEq(
            token.balanceOf(address(bridge)),
            h.ghostDeposited() - h.ghostRecovered() - h.ghostWithdrawn() - h.ghostFeesBurned(),
            "bridge balance"
        );
        assertEq(
            token.balanceOf(address(bridge)),
            bridge.totalDeposited() - bridge.totalRecovered() - bridge.totalWithdrawn() - bridge.totalFeesBurned(),
            "bridge counters"
        );
    }

    /// No withdrawal is ever paid twice.
    function invariant_noDoubleClaim() public view {
        assertFalse(h.doubleClaim(), "double claim");
    }

    /// Vested never exceeds the allocation, never decreases, and claimed never exceeds vested.
    function invariant_vesting() public view {
        assertFalse(h.vestedDecreased(), "vested decreased");
        uint256 n = vault.scheduleCount();
        uint256 owed;
        for (uint256 i = 0; i < n; i++) {
            uint256 v = vault.vested(i);
            assertLe(v, vault.schedule(i).total, "vested > total");
            assertLe(vault.schedule(i).claimed, v, "claimed > vested");
            owed += (vault.schedule(i).revoked ? vault.schedule(i).vestedAtRevoke : vault.schedule(i).total)
                - vault.schedule(i).claimed;
        }
        assertEq(token.balanceOf(address(vault)), owed, "vault holds exactly what it owes");
    }

    /// Sum of stakes == staking balance − rewards owed.
    function invariant_stakingAccounting() public view {
        assertEq(h.ghostStake(), staking.totalActive() + staking.totalUnbonding(), "stakes");
        assertEq(h.ghostStake(), token.balanceOf(address(staking)) - staking.rewardsOwed(), "balance - owed");
    }

    /// Only the timelock changes parameters; the guardian moves no funds.
    function invariant_onlyTimelockAndGuardianHarmless() public view {
        assertFalse(h.nonTimelockChangedParam(), "non-timelock changed a parameter");
        assertFalse(h.guardianMovedFunds(), "guardian moved funds");
        assertEq(rollup.verifier(), address(verifier), "verifier");
        assertEq(rollup.sequencer(), seq, "sequencer");
        assertEq(rollup.guardian(), address(guardian), "guardian");
        assertEq(rollup.proverReward(), proverReward0, "reward");
        assertEq(uint256(rollup.forceInclusionDeadline()), deadline0, "deadline");
        assertEq(uint256(rollup.proofTimeout()), timeout0, "timeout");
        assertEq(uint256(rollup.escapeWindow()), window0, "window");
    }
}
