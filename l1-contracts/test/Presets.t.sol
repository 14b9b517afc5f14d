// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Fixture} from "./base/Fixture.sol";
import {VestingVault} from "../src/VestingVault.sol";
import {Staking} from "../src/Staking.sol";

/// Each preset deploys with its allocations minted exactly; DPIN schedules match the whitepaper.
contract PresetsTest is Fixture {
    function _checkPreset(string memory name) internal returns (Preset memory preset) {
        preset = _deployPreset(name);
        uint256 unit = 10 ** uint256(preset.decimals);
        assertEq(token.totalSupply(), preset.totalSupply * unit, "total supply");
        uint256 sum;
        uint256 vesting;
        uint256 liquidity;
        uint256 treasuryAmt;
        uint256 stakingAmt;
        uint256 sched;
        for (uint256 i = 0; i < preset.allocations.length; i++) {
            Allocation memory a = preset.allocations[i];
            uint256 amt = a.amount * unit;
            sum += amt;
            if (_eq(a.holder, "vesting")) {
                vesting += amt;
                VestingVault.Schedule memory s = vault.schedule(sched++);
                assertEq(uint256(s.total), amt, a.name);
                assertEq(s.beneficiary, address(uint160(0xBE00 + i)), "beneficiary");
                assertEq(uint256(s.cliffMonths), a.cliffMonths, "cliff");
                assertEq(uint256(s.vestingMonths), a.vestingMonths, "vesting");
                assertEq(s.revocable, a.revocable, "revocable");
                assertEq(uint256(s.release), uint256(_release(a.release)), "release");
            } else if (_eq(a.holder, "liquidity")) {
                liquidity += amt;
            } else if (_eq(a.holder, "treasury")) {
                treasuryAmt += amt;
            } else {
                stakingAmt += amt;
            }
        }
        assertEq(sum, token.totalSupply(), "rows sum to supply");
        assertEq(vault.scheduleCount(), sched, "schedule count");
        assertEq(token.balanceOf(address(vault)), vesting, "vault");
        assertEq(vault.totalAllocated(), vesting, "vault allocated");
        assertEq(token.balanceOf(liq), liquidity, "liquidity");
        assertEq(token.balanceOf(address(treasury)), treasuryAmt, "treasury");
        assertEq(token.balanceOf(address(staking)), stakingAmt, "staking");
        assertEq(staking.rewardReserve(), stakingAmt, "reward reserve");
        assertEq(uint256(rollup.l2ChainId()), preset.l2ChainId, "l2 chain id");
        assertEq(uint256(rollup.forceInclusionDeadline()), preset.depositDeadlineSecs, "deadline");
        assertEq(uint256(rollup.escapeWindow()), preset.escapeHatchSecs, "escape");
        assertEq(staking.unbondingPeriod(), preset.providerUnbondingSecs, "unbonding");
        assertEq(staking.slashBurnBps(), preset.slashBurnBps, "slash bps");
        assertEq(staking.minStake(Staking.Role.Provider), preset.minProviderStake * unit, "min stake");
    }

    function testComputroniumPreset() public {
        Preset memory preset = _checkPreset("computronium");
        assertEq(preset.allocations.length, 6, "rows");
        assertEq(uint256(rollup.forceInclusionDeadline()), 3600, "devnet deadline is 1 hour");
    }

    function testTspmoPreset() public {
        Preset memory preset = _checkPreset("tspmo");
        assertEq(preset.totalSupply, 1_000_000_000, "supply");
        assertEq(preset.allocations.length, 5, "rows");
    }

    function testDpinPreset() public {
        Preset memory preset = _checkPreset("dpin");
        assertEq(preset.totalSupply, 210_000_000, "DPIN supply 210M");
        // Whitepaper table: rows, amounts, cliffs and durations.
        _row(preset, 0, "Airdrop Program", "vesting", 180_600_000, "monthly", 0, 36);
        _row(preset, 1, "Core Contributor Reward", "vesting", 12_600_000, "monthly", 12, 36);
        _row(preset, 2, "Super Nodes", "vesting", 4_950_000, "monthly", 0, 36);
        _row(preset, 3, "Initial Liquidity", "liquidity", 4_200_000, "unlocked", 0, 0);
        _row(preset, 4, "Liquidity Bonds", "liquidity", 4_200_000, "unlocked", 0, 0);
        _row(preset, 5, "Community Governance", "vesting", 3_450_000, "monthly", 6, 36);
        // Core contributors: nothing before 12 months, nothing at the cliff itself,
        // 1/36 a month after the cliff, everything after 48 months.
        uint256 t0 = vault.start();
        uint256 m = vault.MONTH();
        uint256 total = 12_600_000 * E18;
        assertEq(vault.vestedAt(1, t0 + 12 * m - 1), 0, "before cliff");
        assertEq(vault.vestedAt(1, t0 + 12 * m), 0, "at cliff");
        assertEq(vault.vestedAt(1, t0 + 13 * m), total / 36, "first unlock");
        assertEq(vault.vestedAt(1, t0 + 30 * m), total / 2, "half");
        assertEq(vault.vestedAt(1, t0 + 48 * m - 1), (total * 35) / 36, "last step pending");
        assertEq(vault.vestedAt(1, t0 + 48 * m), total, "fully vested");
        // Community governance: 6-month cliff then 36 steps.
        uint256 cg = 3_450_000 * E18;
        assertEq(vault.vestedAt(3, t0 + 7 * m - 1), 0, "cg before first");
        assertEq(vault.vestedAt(3, t0 + 7 * m), cg / 36, "cg first");
        assertEq(vault.vestedAt(3, t0 + 42 * m), cg, "cg done");
        // Airdrop: no cliff, 36 steps.
        assertEq(vault.vestedAt(0, t0 + m), (180_600_000 * E18) / 36, "airdrop first");
    }

    function _row(
        Preset memory preset,
        uint256 i,
        string memory name,
        string memory holder,
        uint256 amount,
        string memory release,
        uint32 cliff,
        uint32 months
    ) internal pure {
        Allocation memory a = preset.allocations[i];
        assertEq(a.name, name, "name");
        assertEq(a.holder, holder, "holder");
        assertEq(a.amount, amount, name);
        assertEq(a.release, release, "release");
        assertEq(uint256(a.cliffMonths), cliff, "cliff");
        assertEq(uint256(a.vestingMonths), months, "months");
    }
}
