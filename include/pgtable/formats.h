/* SPDX-License-Identifier: MIT */
/**
 * @file formats.h
 * @brief The shipped formats: the one list of them.
 *
 * One line per descriptor: PGT_FORMAT(descriptor, name, what). It is
 * included with PGT_FORMAT defined: pgtable.h declares each descriptor from
 * it, and pgt_arch_by_name finds them by it. A descriptor reaches the
 * walks compiled for it through its own `walks` field, so a program that
 * names one descriptor links that format's code only.
 */
/* No include guard: included once per use, with PGT_FORMAT defined. */
/* clang-format off */
PGT_FORMAT(pgt_arch_x86_64, "x86_64", "x86-64, 4-level paging, 48-bit VA, 4K/2M/1G")
PGT_FORMAT(pgt_arch_x86_64_la57, "x86_64-la57", "x86-64, 5-level paging (LA57), 57-bit VA, 4K/2M/1G")
PGT_FORMAT(pgt_arch_x86_64_ept, "x86_64-ept", "Intel EPT (stage 2), 4-level walk, 48-bit guest-physical, 4K/2M/1G")
PGT_FORMAT(pgt_arch_x86_64_ept5, "x86_64-ept5", "Intel EPT (stage 2), 5-level walk, 57-bit guest-physical, 4K/2M/1G")
PGT_FORMAT(pgt_arch_armv8_4k_39, "armv8-4k-39", "ARMv8-A stage 1, 4K granule, 39-bit VA (3 levels), 4K/2M/1G")
PGT_FORMAT(pgt_arch_armv8_4k_48, "armv8-4k-48", "ARMv8-A stage 1, 4K granule, 48-bit VA (4 levels), 4K/2M/1G")
PGT_FORMAT(pgt_arch_armv8_16k_47, "armv8-16k-47", "ARMv8-A stage 1, 16K granule, 47-bit VA (3 levels), 16K/32M")
PGT_FORMAT(pgt_arch_armv8_64k_42, "armv8-64k-42", "ARMv8-A stage 1, 64K granule, 42-bit VA (2 levels), 64K/512M")
PGT_FORMAT(pgt_arch_armv8_s2_4k_40, "armv8-s2-4k-40", "ARMv8-A stage 2, 4K granule, 40-bit IPA (start level 1, 2 concatenated tables), 4K/2M/1G")
PGT_FORMAT(pgt_arch_armv8_s2_4k_48, "armv8-s2-4k-48", "ARMv8-A stage 2, 4K granule, 48-bit IPA (start level 0), 4K/2M/1G")
PGT_FORMAT(pgt_arch_armv8_s2_16k_40, "armv8-s2-16k-40", "ARMv8-A stage 2, 16K granule, 40-bit IPA (start level 2, 16 concatenated tables), 16K/32M")
PGT_FORMAT(pgt_arch_armv8_s2_64k_42, "armv8-s2-64k-42", "ARMv8-A stage 2, 64K granule, 42-bit IPA (start level 2), 64K/512M")
PGT_FORMAT(pgt_arch_riscv_sv39, "riscv-sv39", "RISC-V Sv39, 3 levels, 39-bit VA, 4K/2M/1G, Svpbmt")
PGT_FORMAT(pgt_arch_riscv_sv48, "riscv-sv48", "RISC-V Sv48, 4 levels, 48-bit VA, 4K/2M/1G/512G, Svpbmt")
PGT_FORMAT(pgt_arch_riscv_sv57, "riscv-sv57", "RISC-V Sv57, 5 levels, 57-bit VA, 4K/2M/1G/512G/256T, Svpbmt")
PGT_FORMAT(pgt_arch_riscv_sv39x4, "riscv-sv39x4", "RISC-V G-stage Sv39x4, 41-bit guest-physical, 16K root, 4K/2M/1G, Svpbmt")
PGT_FORMAT(pgt_arch_riscv_sv48x4, "riscv-sv48x4", "RISC-V G-stage Sv48x4, 50-bit guest-physical, 16K root, 4K/2M/1G/512G, Svpbmt")
PGT_FORMAT(pgt_arch_riscv_sv57x4, "riscv-sv57x4", "RISC-V G-stage Sv57x4, 59-bit guest-physical, 16K root, 4K/2M/1G/512G/256T, Svpbmt")
/* clang-format on */
